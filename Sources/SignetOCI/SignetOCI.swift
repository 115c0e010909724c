// SignetOCI: image references, digests, manifests, OCI layouts and the registry client.
