// Public keys, signatures and X.509 certificates for signature verification, through OpenSSL.
//
// Pure verification: nothing here reads a file or the network. Keys are ECDSA P-256 / P-384,
// RSA (PKCS #1 v1.5 and PSS) and Ed25519, from PEM or DER SubjectPublicKeyInfo; certificates from
// DER or PEM. Times are Unix seconds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace kh::sigstore {

enum class Hash { kSha256, kSha384, kSha512 };

// The digest of `data`, raw bytes.
std::string digest(Hash h, std::string_view data);
std::string sha256(std::string_view data);
std::string hex(std::string_view bytes);
// Lower-case hex to bytes; nullopt-like empty Result on odd length or a non-hex digit.
Result<std::string> unhex(std::string_view text);

class PublicKey {
 public:
  // "-----BEGIN PUBLIC KEY-----" PEM (SubjectPublicKeyInfo), or a PEM certificate's key.
  static Result<PublicKey> fromPem(std::string_view pem);
  // DER SubjectPublicKeyInfo.
  static Result<PublicKey> fromDer(std::string_view spki);

  // Verifies `sig` over `message` with the hash that goes with the key: SHA-256 for P-256 and
  // RSA, SHA-384 for P-384, none for Ed25519 (pure). RSA accepts PKCS #1 v1.5, then PSS.
  bool verify(std::string_view message, std::string_view sig) const;
  // The same over a digest computed elsewhere (`hash` says which); not for Ed25519.
  bool verifyDigest(std::string_view digest, Hash hash, std::string_view sig) const;

  std::string spki() const;  // DER SubjectPublicKeyInfo
  std::string kind() const;  // "ECDSA P-256", "ECDSA P-384", "RSA 2048", "Ed25519"
  Hash defaultHash() const;
  bool isEd25519() const;
  EVP_PKEY* raw() const { return key_.get(); }

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

class Certificate {
 public:
  static Result<Certificate> fromDer(std::string_view der);
  // Every certificate of a PEM text, in order; an error when there is none.
  static Result<std::vector<Certificate>> fromPem(std::string_view pem);

  std::string der() const;
  PublicKey publicKey() const;
  int64_t notBefore() const;
  int64_t notAfter() const;
  // The subject alternative names: e-mail addresses, URIs and DNS names, in order.
  std::vector<std::string> subjectAltNames() const;
  // The OIDC issuer a Fulcio certificate names: extension 1.3.6.1.4.1.57264.1.8 (a DER
  // UTF8String), else the deprecated 1.3.6.1.4.1.57264.1.1 (raw bytes). Empty when neither.
  std::string fulcioIssuer() const;
  // The raw value of the extension with this dotted OID, or empty.
  std::string extension(const char* oid) const;
  bool isCa() const;
  std::string subject() const;  // one line, for messages
  X509* raw() const { return cert_.get(); }

 private:
  std::shared_ptr<X509> cert_;
};

// Checks that `leaf` chains through `intermediates` (any order) to one of `roots` at time `at`
// (every certificate valid then) and may sign code (Fulcio: extended key usage codeSigning when
// `code_signing`). The error says which link failed.
Status verifyChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                   const std::vector<Certificate>& roots, int64_t at, bool code_signing);

// Verifies an RFC 3161 time-stamp response (DER TimeStampResp, or a bare TimeStampToken) over
// `data` (its message imprint must be data's digest), signed by a TSA whose chain ends in
// `chain` (intermediates and root, valid at the stamped time). The stamped time, Unix seconds.
Result<int64_t> verifyTimestamp(std::string_view der, std::string_view data,
                                const std::vector<Certificate>& chain);

}  // namespace kh::sigstore
