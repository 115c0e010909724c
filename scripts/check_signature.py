#!/usr/bin/env python3
"""Independent check of a cosign signature made by Signet (or anyone).

Usage: check_signature.py --key cosign.pub --payload payload.json --signature sig.b64
                          [--digest sha256:HEX] [--reference REPO] [--annotation k=v]...

Verifies the base64 signature over the payload bytes with the public key (ECDSA over SHA-256/384/512
by curve, Ed25519, RSA PKCS#1 v1.5 SHA-256), using the `cryptography` package, and checks that the
payload bytes are exactly cosign's simple-signing format: the compact JSON that Go's encoding/json
writes, rebuilt here independently from the parsed values. Exit 0 when both hold, 1 otherwise.
"""
import argparse
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa


def go_string(s):
    """A JSON string as Go's encoding/json writes it (HTML escaping on, '/' not escaped)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\b':
            out.append('\\b')
        elif ch == '\f':
            out.append('\\f')
        elif o < 0x20 or ch in '<>&':
            out.append('\\u%04x' % o)
        elif o in (0x2028, 0x2029):
            out.append('\\u%04x' % o)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def go_value(v):
    if v is None:
        return 'null'
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, str):
        return go_string(v)
    if isinstance(v, (int, float)):
        if float(v).is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(float(v))
    if isinstance(v, list):
        return '[' + ','.join(go_value(x) for x in v) + ']'
    if isinstance(v, dict):
        keys = sorted(v.keys(), key=lambda k: k.encode('utf-8'))
        return '{' + ','.join(go_string(k) + ':' + go_value(v[k]) for k in keys) + '}'
    raise TypeError(type(v))


def cosign_payload(reference, digest, optional):
    return ('{"critical":{"identity":{"docker-reference":' + go_string(reference) + '},'
            '"image":{"docker-manifest-digest":' + go_string(digest) + '},'
            '"type":"cosign container image signature"},"optional":' + go_value(optional) + '}').encode('utf-8')


def verify(key, signature, payload):
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            algorithm = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[key.curve.key_size]
            key.verify(signature, payload, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, payload)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
        return True
    except InvalidSignature:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--key', required=True)
    parser.add_argument('--payload', required=True)
    parser.add_argument('--signature', required=True)
    parser.add_argument('--digest')
    parser.add_argument('--reference')
    parser.add_argument('--annotation', action='append', default=[])
    args = parser.parse_args()

    with open(args.key, 'rb') as f:
        key = serialization.load_pem_public_key(f.read())
    with open(args.payload, 'rb') as f:
        payload = f.read()
    with open(args.signature, 'rb') as f:
        signature = base64.b64decode(f.read().strip(), validate=True)

    problems = []
    if not verify(key, signature, payload):
        problems.append('signature does not verify with the key')
    try:
        doc = json.loads(payload)
        critical = doc['critical']
        reference = critical['identity']['docker-reference']
        digest = critical['image']['docker-manifest-digest']
        if critical['type'] != 'cosign container image signature':
            problems.append('critical.type is not cosign\'s')
        if set(doc.keys()) != {'critical', 'optional'} or set(critical.keys()) != {'identity', 'image', 'type'}:
            problems.append('unexpected fields in the payload')
        expected = cosign_payload(reference, digest, doc.get('optional'))
        if payload != expected:
            problems.append('payload bytes are not cosign\'s format:\n  got      %r\n  expected %r' % (payload, expected))
        if args.digest and digest != args.digest:
            problems.append('payload names %s, not %s' % (digest, args.digest))
        if args.reference and reference != args.reference:
            problems.append('payload names repository %s, not %s' % (reference, args.reference))
        for pair in args.annotation:
            k, _, v = pair.partition('=')
            if (doc.get('optional') or {}).get(k) != v:
                problems.append('annotation %s=%s missing' % (k, v))
    except (ValueError, KeyError, TypeError) as e:
        problems.append('payload is not a cosign simple-signing payload: %r' % (e,))

    if problems:
        for p in problems:
            print('FAIL: ' + p, file=sys.stderr)
        return 1
    print('OK: signature verifies and payload is byte-exact cosign format')
    return 0


if __name__ == '__main__':
    sys.exit(main())
