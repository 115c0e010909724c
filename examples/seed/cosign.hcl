# The seed's least-privilege Vault policy for cosign signing and verification.
path "transit/keys/cosign" {
  capabilities = ["read"]
}
path "transit/hmac/cosign/*" {
  capabilities = ["update"]
}
path "transit/sign/cosign/*" {
  capabilities = ["update"]
}
path "transit/verify/cosign/*" {
  capabilities = ["update"]
}
path "transit/verify/cosign" {
  capabilities = ["create"]
}
