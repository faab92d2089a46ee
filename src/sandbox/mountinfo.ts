/** Reading the kernel's list of mounts (`/proc/self/mountinfo`, see proc(5)); pure. */

/**
 * The mount points in a mountinfo text (the fifth field of each line), in order, with the kernel's
 * octal escapes (`\040` for a space, `\011`, `\012`, `\134`) undone. A path mounted on twice
 * appears twice.
 */
export function mountPointsOf(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined || field === '') continue;
    points.push(unescapeOctal(field));
  }
  return points;
}

function unescapeOctal(field: string): string {
  // The kernel escapes only space, tab, newline and backslash (all ASCII), so each escape is one
  // character of the UTF-8 text.
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}
