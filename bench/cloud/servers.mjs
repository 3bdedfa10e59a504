// The cloud benchmarks' servers: the tests' own (test/setup/servers.ts: s3rver and nginx on free
// loopback ports), loaded through tsx so there is one way to start them.
import { register } from "tsx/esm/api";

register();
export const { startS3, startNginx } = await import("../../test/setup/servers.ts");

/** The AWS environment that points geozarr at the S3 server. */
export function awsEnv(s3) {
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}
