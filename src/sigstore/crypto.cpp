#include "sigstore/crypto.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace kh::sigstore {

namespace {

const EVP_MD* mdOf(Hash h) {
  switch (h) {
    case Hash::kSha384:
      return EVP_sha384();
    case Hash::kSha512:
      return EVP_sha512();
    default:
      return EVP_sha256();
  }
}

// OpenSSL's most recent error, for messages; clears the queue.
std::string sslError() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::unique_ptr<BIO, decltype(&BIO_free)> memBio(std::string_view data) {
  return {BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), BIO_free};
}

int64_t unixTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string asn1String(const ASN1_STRING* s) {
  if (!s) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

std::string digest(Hash h, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, mdOf(h), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string sha256(std::string_view data) {
  return digest(Hash::kSha256, data);
}

std::string hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::string> unhex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2) return Error{"odd number of hex digits", {}, {}};
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return Error{"not a hex digit", {}, {}};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// ---- PublicKey

Result<PublicKey> PublicKey::fromPem(std::string_view pem) {
  auto bio = memBio(pem);
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!k) {
    ERR_clear_error();
    auto certs = Certificate::fromPem(pem);
    if (certs && !certs.value().empty()) return certs.value().front().publicKey();
    return Error{"not a PEM public key (-----BEGIN PUBLIC KEY-----) or certificate", {}, {}};
  }
  PublicKey out;
  out.key_.reset(k, EVP_PKEY_free);
  return out;
}

Result<PublicKey> PublicKey::fromDer(std::string_view spki) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(spki.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  if (!k) return Error{"not a DER public key: " + sslError(), {}, {}};
  PublicKey out;
  out.key_.reset(k, EVP_PKEY_free);
  return out;
}

bool PublicKey::isEd25519() const {
  return key_ && EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_ED25519;
}

Hash PublicKey::defaultHash() const {
  if (key_ && EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key_.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                   &len);
    if (std::string_view(group) == "secp384r1") return Hash::kSha384;
    if (std::string_view(group) == "secp521r1") return Hash::kSha512;
  }
  return Hash::kSha256;
}

std::string PublicKey::kind() const {
  if (!key_) return "none";
  switch (EVP_PKEY_get_base_id(key_.get())) {
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      EVP_PKEY_get_utf8_string_param(key_.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &len);
      std::string_view g(group);
      return g == "prime256v1"  ? "ECDSA P-256"
             : g == "secp384r1" ? "ECDSA P-384"
             : g == "secp521r1" ? "ECDSA P-521"
                                : fmt::format("ECDSA {}", g);
    }
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return fmt::format("RSA {}", EVP_PKEY_get_bits(key_.get()));
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return "unsupported key type";
  }
}

std::string PublicKey::spki() const {
  unsigned char* der = nullptr;
  int len = key_ ? i2d_PUBKEY(key_.get(), &der) : -1;
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool PublicKey::verify(std::string_view message, std::string_view sig) const {
  if (!key_) return false;
  int id = EVP_PKEY_get_base_id(key_.get());
  auto attempt = [&](int rsa_padding) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    const EVP_MD* md = id == EVP_PKEY_ED25519 ? nullptr : mdOf(defaultHash());
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key_.get()) != 1) return false;
    if (rsa_padding != 0) {
      EVP_PKEY_CTX_set_rsa_padding(pctx, rsa_padding);
      if (rsa_padding == RSA_PKCS1_PSS_PADDING)
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO);
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                            sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
                            message.size()) == 1;
  };
  bool ok = id == EVP_PKEY_RSA ? attempt(RSA_PKCS1_PADDING) || attempt(RSA_PKCS1_PSS_PADDING)
                               : attempt(0);
  ERR_clear_error();
  return ok;
}

bool PublicKey::verifyDigest(std::string_view dgst, Hash hash, std::string_view sig) const {
  if (!key_ || isEd25519()) return false;
  int id = EVP_PKEY_get_base_id(key_.get());
  auto attempt = [&](int rsa_padding) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new(key_.get(), nullptr), EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) return false;
    if (EVP_PKEY_CTX_set_signature_md(ctx.get(), mdOf(hash)) != 1) return false;
    if (rsa_padding != 0) {
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), rsa_padding);
      if (rsa_padding == RSA_PKCS1_PSS_PADDING)
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO);
    }
    return EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                           sig.size(), reinterpret_cast<const unsigned char*>(dgst.data()),
                           dgst.size()) == 1;
  };
  bool ok = id == EVP_PKEY_RSA ? attempt(RSA_PKCS1_PADDING) || attempt(RSA_PKCS1_PSS_PADDING)
                               : attempt(0);
  ERR_clear_error();
  return ok;
}

// ---- Certificate

Result<Certificate> Certificate::fromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!x) return Error{"not a DER X.509 certificate: " + sslError(), {}, {}};
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(x);
    return Error{"bytes after the DER certificate", {}, {}};
  }
  Certificate c;
  c.cert_.reset(x, X509_free);
  return c;
}

Result<std::vector<Certificate>> Certificate::fromPem(std::string_view pem) {
  auto bio = memBio(pem);
  std::vector<Certificate> out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    Certificate c;
    c.cert_.reset(x, X509_free);
    out.push_back(std::move(c));
  }
  ERR_clear_error();
  if (out.empty()) return Error{"no PEM certificate (-----BEGIN CERTIFICATE-----)", {}, {}};
  return out;
}

std::string Certificate::der() const {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert_.get(), &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

PublicKey Certificate::publicKey() const {
  PublicKey k;
  EVP_PKEY* p = X509_get0_pubkey(cert_.get());
  if (p) {
    std::string spki;
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(p, &der);
    if (len > 0) {
      spki.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
      OPENSSL_free(der);
      if (auto r = PublicKey::fromDer(spki)) return r.value();
    }
  }
  return k;
}

int64_t Certificate::notBefore() const {
  return unixTime(X509_get0_notBefore(cert_.get()));
}

int64_t Certificate::notAfter() const {
  return unixTime(X509_get0_notAfter(cert_.get()));
}

std::vector<std::string> Certificate::subjectAltNames() const {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_EMAIL || n->type == GEN_URI || n->type == GEN_DNS)
      out.push_back(asn1String(n->d.ia5));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Certificate::extension(const char* oid) const {
  std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> obj(OBJ_txt2obj(oid, 1),
                                                                ASN1_OBJECT_free);
  if (!obj) return {};
  int at = X509_get_ext_by_OBJ(cert_.get(), obj.get(), -1);
  if (at < 0) return {};
  return asn1String(X509_EXTENSION_get_data(X509_get_ext(cert_.get(), at)));
}

std::string Certificate::fulcioIssuer() const {
  std::string v2 = extension("1.3.6.1.4.1.57264.1.8");
  if (!v2.empty()) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(v2.data());
    ASN1_UTF8STRING* s = d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(v2.size()));
    if (s) {
      std::string out = asn1String(s);
      ASN1_UTF8STRING_free(s);
      return out;
    }
    ERR_clear_error();
  }
  return extension("1.3.6.1.4.1.57264.1.1");
}

bool Certificate::isCa() const {
  return X509_check_ca(cert_.get()) > 0;
}

std::string Certificate::subject() const {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert_.get()), buf, sizeof buf);
  return buf;
}

Status verifyChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                   const std::vector<Certificate>& roots, int64_t at, bool code_signing) {
  if (code_signing && !(X509_get_extended_key_usage(leaf.raw()) & XKU_CODE_SIGN))
    return Error{
        "the certificate is not for code signing (no codeSigning extended key usage)", {}, {}};
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  for (const auto& r : roots) X509_STORE_add_cert(store.get(), r.raw());
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_free(s); });
  for (const auto& c : intermediates) sk_X509_push(untrusted.get(), c.raw());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.raw(), untrusted.get()) != 1)
    return Error{"cannot set up certificate verification: " + sslError(), {}, {}};
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // The trust root's CA chains may end in an intermediate: each of their certificates is a
  // trust anchor.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Error{
        fmt::format("the certificate does not chain to the trusted root at {}: {}",
                    fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(at))),
                    X509_verify_cert_error_string(err)),
        {},
        {}};
  }
  return {};
}

Result<int64_t> verifyTimestamp(std::string_view der, std::string_view data,
                                const std::vector<Certificate>& chain) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<TS_RESP, decltype(&TS_RESP_free)> resp(
      d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())), TS_RESP_free);
  if (!resp) {
    // A bare TimeStampToken (CMS SignedData): wrap it as a granted response.
    ERR_clear_error();
    p = reinterpret_cast<const unsigned char*>(der.data());
    PKCS7* token = d2i_PKCS7(nullptr, &p, static_cast<long>(der.size()));
    if (!token) return Error{"not an RFC 3161 time-stamp response or token: " + sslError(), {}, {}};
    resp.reset(TS_RESP_new());
    TS_STATUS_INFO* si = TS_STATUS_INFO_new();
    TS_STATUS_INFO_set_status(si, 0);
    TS_RESP_set_status_info(resp.get(), si);
    TS_STATUS_INFO_free(si);
    TS_TST_INFO* info = PKCS7_to_TS_TST_INFO(token);
    TS_RESP_set_tst_info(resp.get(), token, info);  // takes both
  }
  const TS_TST_INFO* info = TS_RESP_get_tst_info(resp.get());
  if (!info) return Error{"the time-stamp response grants no token", {}, {}};
  struct tm tm {};
  const ASN1_GENERALIZEDTIME* gt = TS_TST_INFO_get_time(info);
  if (!gt || ASN1_TIME_to_tm(gt, &tm) != 1) return Error{"the time stamp has no time", {}, {}};
  int64_t at = static_cast<int64_t>(timegm(&tm));

  X509_STORE* store = X509_STORE_new();
  STACK_OF(X509)* certs = sk_X509_new_null();
  for (const auto& c : chain) {
    X509_STORE_add_cert(store, c.raw());
    X509_up_ref(c.raw());
    sk_X509_push(certs, c.raw());
  }
  X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), static_cast<time_t>(at));
  std::unique_ptr<TS_VERIFY_CTX, decltype(&TS_VERIFY_CTX_free)> ctx(TS_VERIFY_CTX_new(),
                                                                    TS_VERIFY_CTX_free);
  TS_VERIFY_CTX_set_store(ctx.get(), store);  // the context owns both now
  TS_VERIFY_CTX_set_certs(ctx.get(), certs);
  // The imprint: the digest of `data` with the token's algorithm.
  const X509_ALGOR* alg = nullptr;
  TS_MSG_IMPRINT* mi = TS_TST_INFO_get_msg_imprint(const_cast<TS_TST_INFO*>(info));
  X509_ALGOR* a = TS_MSG_IMPRINT_get_algo(mi);
  alg = a;
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  const EVP_MD* md = EVP_get_digestbyobj(obj);
  if (!md) return Error{"the time stamp uses an unknown digest algorithm", {}, {}};
  unsigned char imprint[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), imprint, &len, md, nullptr);
  auto* owned = static_cast<unsigned char*>(OPENSSL_memdup(imprint, len));
  TS_VERIFY_CTX_set_imprint(ctx.get(), owned, len);
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
  if (TS_RESP_verify_response(ctx.get(), resp.get()) != 1)
    return Error{"the time stamp does not verify: " + sslError(), {}, {}};
  return at;
}

}  // namespace kh::sigstore
