/** Reads a `Code` member (CreateFunction) or the code members of UpdateFunctionCode. */
import type { CodeInput } from '../functions/function-service.js';
import type { WireObject } from './wire-reader.js';

export function readCode(code: WireObject): CodeInput {
  return {
    zipFile: code.blob('ZipFile'),
    s3Bucket: code.string('S3Bucket'),
    s3Key: code.string('S3Key') ?? code.string('S3ObjectVersion'),
    imageUri: code.string('ImageUri'),
  };
}
