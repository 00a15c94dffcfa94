// A stapling TLS endpoint for the demo, on the system's OpenSSL: one thread accepts on
// loopback and completes each handshake, stapling an OCSP response signed then.
#define _GNU_SOURCE
#include "stapling_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bn.h>
#include <openssl/evp.h>

struct rocsp_stapling_server {
    SSL_CTX *ctx;
    X509 *cert, *issuer;
    EVP_PKEY *issuer_key;
    rocsp_staple staple;
    int64_t this_update, next_update, revocation_time;
    int listener;
    int stop_pipe[2];
    pthread_t thread;
};

static X509 *read_cert(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return cert;
}

static EVP_PKEY *read_key(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}

/// A DER OCSP response for the server's certificate, signed by its issuer; NULL on failure.
static unsigned char *make_response(struct rocsp_stapling_server *server, int *length) {
    unsigned char *der = NULL;
    OCSP_BASICRESP *basic = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), server->cert, server->issuer);
    ASN1_TIME *this_update = ASN1_TIME_set(NULL, (time_t)server->this_update);
    ASN1_TIME *next_update = ASN1_TIME_set(NULL, (time_t)server->next_update);
    ASN1_TIME *revoked_at = ASN1_TIME_set(NULL, (time_t)server->revocation_time);
    OCSP_RESPONSE *response = NULL;
    int status = server->staple == ROCSP_STAPLE_REVOKED ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
    int reason = server->staple == ROCSP_STAPLE_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1;
    if (basic && id && this_update && next_update && revoked_at
        && OCSP_basic_add1_status(basic, id, status, reason, status == V_OCSP_CERTSTATUS_REVOKED ? revoked_at : NULL,
                                  this_update, next_update)
        && OCSP_basic_sign(basic, server->issuer, server->issuer_key, EVP_sha256(), NULL, 0)) {
        response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
    }
    if (response) {
        *length = i2d_OCSP_RESPONSE(response, &der);  // allocated with OPENSSL_malloc, as OpenSSL frees it
        if (*length <= 0) der = NULL;
    }
    OCSP_RESPONSE_free(response);
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    ASN1_TIME_free(this_update);
    ASN1_TIME_free(next_update);
    ASN1_TIME_free(revoked_at);
    return der;
}

static int status_callback(SSL *ssl, void *arg) {
    struct rocsp_stapling_server *server = arg;
    int length = 0;
    unsigned char *der = make_response(server, &length);
    if (!der) return SSL_TLSEXT_ERR_NOACK;
    if (!SSL_set_tlsext_status_ocsp_resp(ssl, der, length)) {
        OPENSSL_free(der);
        return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
}

static void *serve(void *arg) {
    struct rocsp_stapling_server *server = arg;
    struct pollfd fds[2] = {{.fd = server->listener, .events = POLLIN}, {.fd = server->stop_pipe[0], .events = POLLIN}};
    while (poll(fds, 2, -1) >= 0 && !(fds[1].revents & POLLIN)) {
        if (!(fds[0].revents & POLLIN)) continue;
        int client = accept(server->listener, NULL, NULL);
        if (client < 0) continue;
        // A client that stalls the handshake holds the demo endpoint at most this long.
        struct timeval limit = {.tv_sec = 5};
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        SSL *ssl = SSL_new(server->ctx);
        if (ssl && SSL_set_fd(ssl, client) && SSL_accept(ssl) == 1) SSL_shutdown(ssl);
        SSL_free(ssl);
        ERR_clear_error();
        close(client);
    }
    return NULL;
}

static void free_server(struct rocsp_stapling_server *server) {
    SSL_CTX_free(server->ctx);
    X509_free(server->cert);
    X509_free(server->issuer);
    EVP_PKEY_free(server->issuer_key);
    if (server->listener >= 0) close(server->listener);
    if (server->stop_pipe[0] >= 0) close(server->stop_pipe[0]);
    if (server->stop_pipe[1] >= 0) close(server->stop_pipe[1]);
    free(server);
}

rocsp_stapling_server *rocsp_stapling_server_start(const char *cert_pem, const char *key_pem, const char *issuer_pem,
                                                   const char *issuer_key_pem, rocsp_staple staple, int64_t this_update,
                                                   int64_t next_update, int64_t revocation_time, int *port, char *error) {
    struct rocsp_stapling_server *server = calloc(1, sizeof *server);
    if (!server) return NULL;
    server->listener = server->stop_pipe[0] = server->stop_pipe[1] = -1;
    server->staple = staple;
    server->this_update = this_update;
    server->next_update = next_update;
    server->revocation_time = revocation_time;
    server->cert = read_cert(cert_pem);
    server->issuer = read_cert(issuer_pem);
    server->issuer_key = read_key(issuer_key_pem);
    EVP_PKEY *key = read_key(key_pem);
    server->ctx = SSL_CTX_new(TLS_server_method());
    if (!server->cert || !server->issuer || !server->issuer_key || !key || !server->ctx
        || !SSL_CTX_use_certificate(server->ctx, server->cert) || !SSL_CTX_use_PrivateKey(server->ctx, key)
        || !SSL_CTX_add1_chain_cert(server->ctx, server->issuer)) {
        snprintf(error, 256, "cannot set up the TLS context: %s", ERR_error_string(ERR_get_error(), NULL));
        EVP_PKEY_free(key);
        free_server(server);
        return NULL;
    }
    EVP_PKEY_free(key);
    if (staple != ROCSP_STAPLE_NONE) {
        SSL_CTX_set_tlsext_status_cb(server->ctx, status_callback);
        SSL_CTX_set_tlsext_status_arg(server->ctx, server);
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    server->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (server->listener < 0 || bind(server->listener, (struct sockaddr *)&address, sizeof address) != 0
        || listen(server->listener, 16) != 0 || getsockname(server->listener, (struct sockaddr *)&address, &length) != 0
        || pipe2(server->stop_pipe, O_CLOEXEC) != 0 || pthread_create(&server->thread, NULL, serve, server) != 0) {
        snprintf(error, 256, "cannot listen on loopback");
        free_server(server);
        return NULL;
    }
    *port = ntohs(address.sin_port);
    return server;
}

int rocsp_stapling_server_answer(rocsp_stapling_server *server, const unsigned char *request, long request_length,
                                 unsigned char **der) {
    *der = NULL;
    int length = 0;
    OCSP_REQUEST *parsed = d2i_OCSP_REQUEST(NULL, &request, request_length);
    OCSP_ONEREQ *one = parsed != NULL && OCSP_request_onereq_count(parsed) > 0 ? OCSP_request_onereq_get0(parsed, 0) : NULL;
    OCSP_CERTID *mine = OCSP_cert_to_id(EVP_sha1(), server->cert, server->issuer);
    if (one != NULL && mine != NULL && OCSP_id_cmp(OCSP_onereq_get0_id(one), mine) == 0) *der = make_response(server, &length);
    OCSP_CERTID_free(mine);
    OCSP_REQUEST_free(parsed);
    ERR_clear_error();
    return *der != NULL ? length : 0;
}

void rocsp_stapling_free(unsigned char *der) { OPENSSL_free(der); }

void rocsp_stapling_server_stop(rocsp_stapling_server *server) {
    if (!server) return;
    (void)!write(server->stop_pipe[1], "x", 1);
    pthread_join(server->thread, NULL);
    free_server(server);
}

/// Adds an extension written as in openssl.cnf, with issuer and subject set for key identifiers.
static int add_extension(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
    int ok = extension != NULL && X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    return ok;
}

/// A certificate for key, signed by issuer_key (itself when issuer is NULL).
static X509 *make_certificate(EVP_PKEY *key, const char *common_name, X509 *issuer, EVP_PKEY *issuer_key, int64_t validity) {
    X509 *cert = X509_new();
    BIGNUM *serial = BN_new();
    int ok = cert != NULL && serial != NULL && X509_set_version(cert, 2) && BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)
             && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) != NULL
             && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) && X509_gmtime_adj(X509_getm_notAfter(cert), (long)validity)
             && X509_set_pubkey(cert, key);
    X509_NAME *name = ok ? X509_get_subject_name(cert) : NULL;
    if (ok && issuer == NULL) ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"redis-ocsp-exporter", -1, -1, 0);
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)common_name, -1, -1, 0)
         && X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name);
    if (ok && issuer == NULL) {
        ok = add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")
             && add_extension(cert, cert, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign")
             && add_extension(cert, cert, NID_subject_key_identifier, "hash");
    } else if (ok) {
        ok = add_extension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE")
             && add_extension(cert, issuer, NID_key_usage, "critical,digitalSignature")
             && add_extension(cert, issuer, NID_ext_key_usage, "serverAuth")
             && add_extension(cert, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1")
             && add_extension(cert, issuer, NID_authority_key_identifier, "keyid");
    }
    ok = ok && X509_sign(cert, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0;
    BN_free(serial);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/// Writes the certificate and key as PEM into buffers of ROCSP_PEM_MAX bytes.
static int write_pem(X509 *cert, EVP_PKEY *key, char *cert_pem, char *key_pem) {
    int ok = 1;
    for (int which = 0; which < 2 && ok; which++) {
        BIO *bio = BIO_new(BIO_s_mem());
        ok = bio != NULL && (which == 0 ? PEM_write_bio_X509(bio, cert) : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL));
        char *data = NULL;
        long length = ok ? BIO_get_mem_data(bio, &data) : 0;
        ok = ok && length > 0 && length < ROCSP_PEM_MAX;
        if (ok) {
            char *out = which == 0 ? cert_pem : key_pem;
            memcpy(out, data, (size_t)length);
            out[length] = 0;
        }
        BIO_free(bio);
    }
    return ok;
}

int rocsp_make_ca(int64_t validity_seconds, char *cert_pem, char *key_pem, char *error) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key != NULL ? make_certificate(key, "Simulated Redis Software CA", NULL, NULL, validity_seconds) : NULL;
    int ok = cert != NULL && write_pem(cert, key, cert_pem, key_pem);
    if (!ok) snprintf(error, 256, "cannot make the CA: %s", ERR_error_string(ERR_get_error(), NULL));
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}

int rocsp_issue_server_certificate(const char *ca_cert_pem, const char *ca_key_pem, int64_t validity_seconds,
                                   char *cert_pem, char *key_pem, char *error) {
    X509 *issuer = read_cert(ca_cert_pem);
    EVP_PKEY *issuer_key = read_key(ca_key_pem);
    EVP_PKEY *key = issuer != NULL && issuer_key != NULL ? EVP_EC_gen("P-256") : NULL;
    X509 *cert = key != NULL ? make_certificate(key, "localhost", issuer, issuer_key, validity_seconds) : NULL;
    int ok = cert != NULL && write_pem(cert, key, cert_pem, key_pem);
    if (!ok) snprintf(error, 256, "cannot issue the server certificate: %s", ERR_error_string(ERR_get_error(), NULL));
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(issuer_key);
    X509_free(issuer);
    return ok;
}
