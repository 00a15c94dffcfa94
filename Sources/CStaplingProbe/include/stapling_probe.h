#ifndef REDIS_OCSP_STAPLING_PROBE_H
#define REDIS_OCSP_STAPLING_PROBE_H

#include <stddef.h>
#include <stdint.h>

/// How a probe failed before it could look at the staple.
typedef enum {
    ROCSP_OK = 0,
    ROCSP_CONNECTION_FAILED = 1,
    ROCSP_TIMEOUT = 2,
    ROCSP_TLS_ERROR = 3,
} rocsp_error;

/// Certificate status of an OCSP single response (RFC 6960), or none.
typedef enum {
    ROCSP_STATUS_NONE = -1,
    ROCSP_STATUS_GOOD = 0,
    ROCSP_STATUS_REVOKED = 1,
    ROCSP_STATUS_UNKNOWN = 2,
} rocsp_cert_status;

/// The largest certificate (DER) a result keeps for the responder probe.
#define ROCSP_MAX_DER 16384

/// What one TLS handshake showed. Times are Unix seconds, valid where their has_ flag is 1.
typedef struct {
    rocsp_error error;
    /// Why the probe failed, or why the staple is not verified; empty when neither.
    char message[256];
    int staple_present;
    /// The OCSP responseStatus (0 successful); -1 when there is no parsable response.
    int response_status;
    rocsp_cert_status cert_status;
    /// The staple answers for the served leaf certificate (its CertID matches).
    int matches_leaf;
    /// The signature verifies against the leaf's issuer: with a CA bundle, the issuer of the
    /// chain that verified against it; without one, the issuer the server sent.
    int signature_valid;
    /// The served chain verifies against the CA bundle: 1 or 0; -1 without a bundle.
    int chain_verified;
    int has_produced_at, has_this_update, has_next_update, has_revocation_time, has_not_after;
    int64_t produced_at, this_update, next_update, revocation_time;
    /// notAfter of the served leaf certificate.
    int64_t not_after;
    /// The certificate that signed the staple: its notAfter, and whether it is a delegated
    /// responder (1) or the leaf's issuer itself (0); valid where has_signer is 1.
    int has_signer;
    int signer_delegated;
    int64_t signer_not_after;
    /// SHA-256 of the served leaf's DER; valid where has_leaf_sha256 is 1.
    int has_leaf_sha256;
    unsigned char leaf_sha256[32];
} rocsp_result;

/// What the responder probe needs from a handshake: the served leaf and the issuer the probe
/// trusts (DER, into the caller's buffers of ROCSP_MAX_DER bytes each), and the leaf's OCSP
/// responder URL (authorityInfoAccess). Lengths 0 and an empty URL where unknown (no trusted
/// issuer, a certificate over ROCSP_MAX_DER bytes, no such extension).
typedef struct {
    unsigned char *leaf, *issuer;
    size_t leaf_length, issuer_length;
    char ocsp_url[512];
} rocsp_certificates;

/// SHA-256 of length bytes at data, into digest.
void rocsp_sha256(const void *data, size_t length, unsigned char digest[32]);

/// The first certificate of a PEM text: its notAfter (Unix seconds) and the SHA-256 of its
/// DER. Returns 1, or 0 when the text holds no certificate that parses.
int rocsp_certificate_info(const char *pem, size_t pem_length, int64_t *not_after, unsigned char sha256[32]);

/// Connects to host:port, performs a TLS handshake asking for OCSP stapling
/// (status_request), and checks what was stapled. Blocks the calling thread for at most
/// timeout_ms (name resolution aside). server_name may be NULL; ca_pem (PEM certificates,
/// ca_pem_length bytes, read when the configuration was loaded) may be NULL. keep, where not
/// NULL, receives the leaf, its issuer and its OCSP URL.
void rocsp_probe(const char *host, int port, const char *server_name, const char *ca_pem, size_t ca_pem_length,
                 int timeout_ms, rocsp_certificates *keep, rocsp_result *result);

/// A DER OCSP request for the leaf its issuer issued (both DER), as RFC 5019 asks: one
/// CertID (SHA-1), no nonce, unsigned. Writes it to out and returns its length; 0 when the
/// certificates do not parse or it does not fit in capacity.
size_t rocsp_request(const unsigned char *leaf_der, size_t leaf_length, const unsigned char *issuer_der, size_t issuer_length,
                     unsigned char *out, size_t capacity);

/// Checks a responder's answer to that request as the probe checks a staple (parsed, for
/// the leaf, signed by the issuer or a responder it delegated to) and fills the result's
/// response fields; staple_present is 1.
void rocsp_check_response(const unsigned char *leaf_der, size_t leaf_length, const unsigned char *issuer_der, size_t issuer_length,
                          const unsigned char *response, size_t response_length, rocsp_result *result);

#endif
