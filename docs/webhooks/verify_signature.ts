import { createHmac, timingSafeEqual } from "node:crypto";

/** True when `header` (Shopapi-Signature) signs the raw request `body` with `secret`. */
export function verifyShopapiSignature(header: string, body: Buffer, secret: string, tolerance = 300): boolean {
  const parts = header.split(",").map((p) => p.split("=", 2) as [string, string]);
  const stamps = parts.filter(([k]) => k === "t").map(([, v]) => v);
  if (stamps.length !== 1 || !/^\d+$/.test(stamps[0]) || Math.abs(Date.now() / 1000 - Number(stamps[0])) > tolerance) {
    return false;
  }
  const expected = createHmac("sha256", secret).update(`${stamps[0]}.`).update(body).digest();
  return parts.some(([k, v]) => {
    if (k !== "v1" || !/^[0-9a-f]{64}$/.test(v ?? "")) return false;
    return timingSafeEqual(Buffer.from(v, "hex"), expected);
  });
}
