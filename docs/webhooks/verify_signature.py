import hashlib
import hmac
import time


def verify_shopapi_signature(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """True when `header` (Shopapi-Signature) signs the raw request `body` with `secret`."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(time.time() - int(stamps[0])) > tolerance:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)
