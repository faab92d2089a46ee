/**
 * Where an OpenTelemetry collector takes each signal over OTLP/HTTP, from the base URL the
 * operator gives (`--otlp-endpoint`, read as OTEL_EXPORTER_OTLP_ENDPOINT is: each signal at
 * `<base>/v1/<signal>`). The platform's own spans and what functions relay both take their URLs
 * from here, so one setting sends both to the same place.
 */

/** The three signals an OTLP/HTTP collector takes. */
export type OtlpSignalName = 'traces' | 'metrics' | 'logs';

/**
 * The collector's URL of each signal. A base that already ends in a signal's path (the traces URL
 * given for the whole endpoint, as users often do) has it removed first; a query or fragment is
 * not kept. Throws for what is not an http or https URL.
 */
export function collectorUrls(base: string): Readonly<Record<OtlpSignalName, URL>> {
  const url = new URL(base);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`the OTLP endpoint must be an http or https URL: ${base}`);
  const root = url.pathname.replace(/\/v1\/(traces|metrics|logs)\/?$/, '').replace(/\/+$/, '');
  const of = (signal: OtlpSignalName) => {
    const signalUrl = new URL(url.href);
    signalUrl.pathname = `${root}/v1/${signal}`;
    signalUrl.search = '';
    signalUrl.hash = '';
    return signalUrl;
  };
  return { traces: of('traces'), metrics: of('metrics'), logs: of('logs') };
}
