#ifndef CLibCrypto_SHIM_H
#define CLibCrypto_SHIM_H
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#endif
