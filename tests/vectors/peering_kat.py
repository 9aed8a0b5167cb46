# Independent encoder for the peering known answer: hand-written protobuf +
# Python `cryptography` Ed25519/X25519.
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization as ser
raw = dict(encoding=ser.Encoding.Raw, format=ser.PublicFormat.Raw)

def varint(n):
    out = b''
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(num, wt, payload):
    key = varint(num << 3 | wt)
    if wt == 0: return key + varint(payload)
    return key + varint(len(payload)) + payload
def s(num, text): return field(num, 2, text.encode() if isinstance(text, str) else text)

def iota(start): return bytes(range(start, start + 32))
def ed_pub(seed): return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(**raw)
def x_pub(secret): return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(**raw)

def party(agency, broker, sign_seed, curve_secret):
    return s(1, agency) + s(2, broker) + s(3, ed_pub(sign_seed)) + s(4, x_pub(curve_secret))
def direction(topics, ceiling, rel, transit):
    out = b''.join(s(1, t) for t in topics)
    out += field(2, 0, ceiling)
    out += b''.join(s(3, c) for c in rel)
    if transit: out += field(4, 0, 1)
    return out
body = (field(1, 0, 1) + s(2, "diran-dea")
        + s(3, party("DIRAN", "diran-broker", iota(0), iota(32)))
        + s(4, party("DEA", "dea-broker", iota(64), iota(96)))
        + s(5, direction(["intel.>"], 4, ["USA"], False))
        + s(6, direction(["intel.routes.>"], 3, [], False))
        + field(7, 0, 1) + field(8, 0, 1780268400) + field(9, 0, 1811808000))
tag = b"tearline/v1/peering\x00"
diran = Ed25519PrivateKey.from_private_bytes(bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
dea = Ed25519PrivateKey.from_private_bytes(bytes([0x42] * 32))
sig1 = diran.sign(tag + body); sig2 = dea.sign(tag + body)
env = s(1, body) + s(2, s(1, "DIRAN") + s(2, sig1)) + s(2, s(1, "DEA") + s(2, sig2))
print("body", body.hex())
print("envelope", env.hex())
print("dea_pub", dea.public_key().public_bytes(**raw).hex())
