#ifndef PARC_CLIBCRYPTO_SHIM_H
#define PARC_CLIBCRYPTO_SHIM_H

// OpenSSL's libcrypto (Debian: libssl-dev), which libssh2 links already: digests and HMAC.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#endif
