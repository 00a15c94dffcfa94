#ifndef REDIS_OCSP_STAPLING_SERVER_H
#define REDIS_OCSP_STAPLING_SERVER_H

#include <stdint.h>

/// A TLS endpoint on 127.0.0.1 that staples an OCSP response made in-process, as a Redis
/// Software proxy staples its cluster's cached one, for the demo: every handshake gets a
/// response with the given status and times, signed by the issuer then, or none.
typedef struct rocsp_stapling_server rocsp_stapling_server;

/// What the stapled response says.
typedef enum {
    ROCSP_STAPLE_GOOD = 0,
    ROCSP_STAPLE_REVOKED = 1,
    ROCSP_STAPLE_NONE = -1,
} rocsp_staple;

/// Starts serving on an ephemeral port (written to *port). PEM texts; the issuer signs the
/// responses. Times are Unix seconds; revocation_time is used for ROCSP_STAPLE_REVOKED.
/// Returns NULL and fills error (at least 256 bytes) on failure.
rocsp_stapling_server *rocsp_stapling_server_start(const char *cert_pem, const char *key_pem, const char *issuer_pem,
                                                   const char *issuer_key_pem, rocsp_staple staple, int64_t this_update,
                                                   int64_t next_update, int64_t revocation_time, int *port, char *error);

/// The demo's OCSP responder: when the DER OCSP request asks about this server's certificate,
/// the response it would staple, signed now (GOOD where it staples nothing). Returns its
/// length and sets *der (free it with rocsp_stapling_free), or returns 0.
int rocsp_stapling_server_answer(rocsp_stapling_server *server, const unsigned char *request, long request_length,
                                 unsigned char **der);

void rocsp_stapling_free(unsigned char *der);

/// Room for one certificate or key in PEM.
#define ROCSP_PEM_MAX 4096

/// A throwaway certificate authority made in memory: an EC P-256 key and a self-signed
/// certificate for it, valid from an hour ago for validity_seconds. Writes both as PEM into
/// buffers of ROCSP_PEM_MAX bytes; returns 1, or 0 and fills error (256 bytes).
int rocsp_make_ca(int64_t validity_seconds, char *cert_pem, char *key_pem, char *error);

/// A server certificate for localhost and 127.0.0.1 that the CA issues (serverAuth), with a
/// new EC P-256 key, as rocsp_make_ca writes them.
int rocsp_issue_server_certificate(const char *ca_cert_pem, const char *ca_key_pem, int64_t validity_seconds,
                                   char *cert_pem, char *key_pem, char *error);

/// Stops accepting, waits for the serving thread and frees everything.
void rocsp_stapling_server_stop(rocsp_stapling_server *server);

#endif
