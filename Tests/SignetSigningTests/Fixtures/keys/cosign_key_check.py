#!/usr/bin/env python3
"""Independent check of cosign key files: scrypt from Python's hashlib (OpenSSL), secretbox from
libsodium (through ctypes), PKCS#8 from the `cryptography` package. No Signet code involved.

  cosign_key_check.py decrypt KEYFILE PASSWORD   -> prints the PKIX PEM public key of the key
  cosign_key_check.py encrypt PEMFILE PASSWORD   -> prints an ENCRYPTED SIGSTORE PRIVATE KEY PEM
                                                    of the unencrypted PEM private key PEMFILE
"""
import base64, ctypes, ctypes.util, hashlib, json, os, sys

from cryptography.hazmat.primitives import serialization


def sodium():
    name = ctypes.util.find_library("sodium") or "libsodium.so.23"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        sys.exit("libsodium is not installed (Debian package libsodium23)")
    if lib.sodium_init() < 0:
        sys.exit("libsodium failed to initialise")
    return lib


def derive(password, salt, n, r, p):
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=512 * 1024 * 1024, dklen=32)


def pem_body(text):
    lines = [l.strip() for l in text.strip().splitlines()]
    assert lines[0].startswith("-----BEGIN ") and lines[-1].startswith("-----END "), "not PEM"
    return lines[0][11:-5], base64.b64decode("".join(lines[1:-1]))


def decrypt(path, password):
    label, body = pem_body(open(path).read())
    assert label in ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"), label
    env = json.loads(body)
    assert env["kdf"]["name"] == "scrypt" and env["cipher"]["name"] == "nacl/secretbox"
    params = env["kdf"]["params"]
    key = derive(password, base64.b64decode(env["kdf"]["salt"]), params["N"], params["r"], params["p"])
    nonce = base64.b64decode(env["cipher"]["nonce"])
    box = base64.b64decode(env["ciphertext"])
    lib = sodium()
    out = ctypes.create_string_buffer(len(box) - 16)
    if lib.crypto_secretbox_open_easy(out, box, ctypes.c_ulonglong(len(box)), nonce, key) != 0:
        sys.exit("libsodium: the secretbox did not open (wrong password or corrupt file)")
    private = serialization.load_der_private_key(out.raw, password=None)
    public = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    sys.stdout.write(public.decode())


def encrypt(path, password):
    private = serialization.load_pem_private_key(open(path, "rb").read(), password=None)
    der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    key = derive(password, salt, 32768, 8, 1)
    lib = sodium()
    out = ctypes.create_string_buffer(len(der) + 16)
    lib.crypto_secretbox_easy(out, der, ctypes.c_ulonglong(len(der)), nonce, key)
    b64 = lambda b: base64.b64encode(b).decode()
    env = {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": b64(salt)},
           "cipher": {"name": "nacl/secretbox", "nonce": b64(nonce)}, "ciphertext": b64(out.raw)}
    body = base64.b64encode(json.dumps(env, separators=(",", ":")).encode()).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    sys.stdout.write("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "\n".join(lines) +
                     "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("decrypt", "encrypt"):
        sys.exit(__doc__)
    (decrypt if sys.argv[1] == "decrypt" else encrypt)(sys.argv[2], sys.argv[3].encode())
