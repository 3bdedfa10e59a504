/**
 * A fault-injecting HTTP proxy on loopback, in front of a real server (s3rver, nginx): every
 * `failEvery`-th request fails, alternately with a 503 SlowDown (S3's throttling answer) and a
 * connection reset; the rest are forwarded unchanged (the Host header too, so SigV4 signatures
 * still verify). It also checks that every PUT carries an x-amz-checksum-crc32 header that matches
 * its body, as S3 verifies it, and counts the PUTs signed without a hash of their body
 * (UNSIGNED-PAYLOAD: s3.ts, loopback endpoints).
 */

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { crc32 } from "node:zlib";

export interface ProxyStats {
  requests: number;
  throttled: number;
  reset: number;
  puts: number;
  /** PUTs whose x-amz-checksum-crc32 matched their body. */
  putsVerified: number;
  /** PUTs signed with x-amz-content-sha256: UNSIGNED-PAYLOAD. */
  putsUnsigned: number;
  /** PUTs that copy an object on the server (CopyObject: x-amz-copy-source, no body). */
  copies: number;
}

export interface FaultProxy {
  url: string;
  stats: ProxyStats;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string, failEvery = 3): Promise<FaultProxy> {
  const to = new URL(target);
  const stats: ProxyStats = {
    requests: 0,
    throttled: 0,
    reset: 0,
    puts: 0,
    putsVerified: 0,
    putsUnsigned: 0,
    copies: 0,
  };
  let failures = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = ++stats.requests;
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      if (n % failEvery === 0) {
        if (failures++ % 2 === 0) {
          stats.throttled++;
          res.writeHead(503, { "content-type": "application/xml" });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
          );
        } else {
          stats.reset++;
          req.socket.destroy();
        }
        return;
      }
      const body = Buffer.concat(parts);
      if (req.method === "PUT") {
        stats.puts++;
        const want = req.headers["x-amz-checksum-crc32"];
        const sum = Buffer.alloc(4);
        sum.writeUInt32BE(crc32(body));
        if (want === sum.toString("base64")) stats.putsVerified++;
        if (req.headers["x-amz-content-sha256"] === "UNSIGNED-PAYLOAD") stats.putsUnsigned++;
        if (req.headers["x-amz-copy-source"] !== undefined) stats.copies++;
      }
      const fwd = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      fwd.on("error", () => req.socket.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
