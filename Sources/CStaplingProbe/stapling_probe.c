// The TLS stapling probe: a client handshake with status_request, then the checks a client
// that requires stapling makes. Non-blocking socket and poll() so one deadline bounds the
// connect and the handshake alike.
#define _GNU_SOURCE
#include "stapling_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note(rocsp_result *r, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(r->message, sizeof r->message, format, args);
    va_end(args);
}

static void fail(rocsp_result *r, rocsp_error error, const char *format, ...) {
    r->error = error;
    va_list args;
    va_start(args, format);
    vsnprintf(r->message, sizeof r->message, format, args);
    va_end(args);
}

/// The most recent OpenSSL error as text, and the queue cleared so it cannot leak into the
/// next probe on this thread.
static const char *openssl_error(char *buffer, size_t size) {
    unsigned long code = ERR_peek_last_error();
    if (code == 0) {
        snprintf(buffer, size, "unknown error");
    } else {
        ERR_error_string_n(code, buffer, size);
    }
    ERR_clear_error();
    return buffer;
}

/// 1 when fd is ready for events, 0 when the deadline passed, -1 on a poll error.
static int wait_for(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 1;
        if (n == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/// A connected non-blocking socket, or -1 with the failure recorded.
static int connect_before(const char *host, int port, int64_t deadline, rocsp_result *r) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *addresses = NULL;
    int rc = getaddrinfo(host, service, &hints, &addresses);
    if (rc != 0) {
        fail(r, ROCSP_CONNECTION_FAILED, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int last_errno = 0, timed_out = 0;
    for (struct addrinfo *a = addresses; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            freeaddrinfo(addresses);
            return fd;
        }
        if (errno == EINPROGRESS) {
            int ready = wait_for(fd, POLLOUT, deadline);
            int so_error = 0;
            socklen_t len = sizeof so_error;
            if (ready == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0) {
                freeaddrinfo(addresses);
                return fd;
            }
            if (ready == 0) timed_out = 1;
            last_errno = ready == 1 ? so_error : errno;
        } else {
            last_errno = errno;
        }
        close(fd);
        if (timed_out) break;
    }
    freeaddrinfo(addresses);
    if (timed_out) {
        fail(r, ROCSP_TIMEOUT, "no TCP connection to %s:%d within the timeout", host, port);
    } else {
        fail(r, ROCSP_CONNECTION_FAILED, "cannot connect to %s:%d: %s", host, port, strerror(last_errno));
    }
    return -1;
}

static int64_t unix_time(const ASN1_TIME *t, int *has) {
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        *has = 0;
        return 0;
    }
    *has = 1;
    return (int64_t)timegm(&tm);
}

/// The certificates of a PEM bundle in memory; an empty stack when there is none.
static STACK_OF(X509) *read_certificates(const char *pem, size_t length) {
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (pem == NULL || length == 0 || certs == NULL) return certs;
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return certs;
    X509 *cert;
    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(certs, cert)) X509_free(cert);
    }
    BIO_free(bio);
    ERR_clear_error();  // the end of the bundle reads as an error
    return certs;
}

static X509 *find_issuer(X509 *leaf, STACK_OF(X509) *candidates) {
    for (int i = 0; i < sk_X509_num(candidates); i++) {
        X509 *candidate = sk_X509_value(candidates, i);
        if (X509_cmp(candidate, leaf) != 0 && X509_check_issued(candidate, leaf) == X509_V_OK) return candidate;
    }
    return NULL;
}

/// Parses and checks an OCSP response (`what` names it in messages: the staple, or the
/// responder's answer); `issuer` is the served leaf's issuer the probe trusts (NULL when there
/// is none), `candidates` the certificates a delegated responder's certificate may chain through.
static void check_response(X509 *leaf, X509 *issuer, STACK_OF(X509) *candidates, const unsigned char *der, long length,
                           const char *what, rocsp_result *r) {
    char error[200];
    OCSP_RESPONSE *response = d2i_OCSP_RESPONSE(NULL, &der, length);
    OCSP_BASICRESP *basic = NULL;
    X509_STORE *store = NULL;
    OCSP_CERTID *id = NULL;

    if (response == NULL) {
        note(r, "%s is not a DER OCSP response", what);
        goto done;
    }
    r->response_status = OCSP_response_status(response);
    if (r->response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        note(r, "%s's responseStatus is %s", what, OCSP_response_status_str(r->response_status));
        goto done;
    }
    basic = OCSP_response_get1_basic(response);
    if (basic == NULL) {
        note(r, "%s carries no basic OCSP response", what);
        goto done;
    }
    r->produced_at = unix_time(OCSP_resp_get0_produced_at(basic), &r->has_produced_at);
    X509 *signer = NULL;
    if (OCSP_resp_get0_signer(basic, &signer, candidates) == 1 && signer != NULL) {
        r->signer_not_after = unix_time(X509_get0_notAfter(signer), &r->has_signer);
        r->signer_delegated = issuer != NULL ? X509_cmp(signer, issuer) != 0
                                             : X509_NAME_cmp(X509_get_subject_name(signer), X509_get_issuer_name(leaf)) != 0;
    }
    ERR_clear_error();

    int status = -1, reason = 0;
    ASN1_GENERALIZEDTIME *revoked = NULL, *this_update = NULL, *next_update = NULL;
    if (issuer != NULL && (id = OCSP_cert_to_id(NULL, leaf, issuer)) != NULL
        && OCSP_resp_find_status(basic, id, &status, &reason, &revoked, &this_update, &next_update) == 1) {
        r->matches_leaf = 1;
    } else {
        // Report what the staple says even when it is about another certificate.
        OCSP_SINGLERESP *single = OCSP_resp_get0(basic, 0);
        if (single != NULL) status = OCSP_single_get0_status(single, &reason, &revoked, &this_update, &next_update);
    }
    if (status >= V_OCSP_CERTSTATUS_GOOD && status <= V_OCSP_CERTSTATUS_UNKNOWN) r->cert_status = (rocsp_cert_status)status;
    r->this_update = unix_time(this_update, &r->has_this_update);
    r->next_update = unix_time(next_update, &r->has_next_update);
    if (status == V_OCSP_CERTSTATUS_REVOKED) r->revocation_time = unix_time(revoked, &r->has_revocation_time);

    if (issuer == NULL) {
        if (r->message[0] == 0) note(r, "the issuer of the served certificate is neither in the chain nor in ca_file");
        goto done;
    }
    // The issuer is the trust anchor: the responder must be it or a responder it delegated to.
    store = X509_STORE_new();
    if (store == NULL || !X509_STORE_add_cert(store, issuer)) {
        note(r, "out of memory");
        goto done;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    if (OCSP_basic_verify(basic, candidates, store, 0) == 1) {
        r->signature_valid = 1;
    } else if (signer != NULL && r->signer_delegated && X509_check_issued(issuer, signer) != X509_V_OK) {
        ERR_clear_error();
        note(r, "%s's signer is a responder certificate the served certificate's issuer did not issue", what);
    } else if (signer != NULL && r->signer_delegated
               && !((X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN))) {
        // Without the extension OpenSSL reports every usage as allowed; a delegated responder needs it named.
        ERR_clear_error();
        note(r, "%s's signer is a delegated responder certificate without the OCSPSigning extended key usage", what);
    } else if (signer != NULL && X509_cmp_current_time(X509_get0_notAfter(signer)) < 0) {
        ERR_clear_error();
        note(r, "%s's signer certificate has expired", what);
    } else {
        note(r, "%s's signature does not verify: %s", what, openssl_error(error, sizeof error));
    }
    if (!r->matches_leaf) note(r, "%s answers for another certificate than the served one", what);

done:
    ERR_clear_error();
    OCSP_CERTID_free(id);
    X509_STORE_free(store);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(response);
}

/// The leaf's issuer the probe can trust. With a CA bundle, the served chain must verify
/// against it, and the issuer is the one in the verified chain: a server that sends its own
/// made-up issuer with a matching staple is not believed. Without a bundle, the issuer the
/// server sent. Sets chain_verified; the issuer is a new reference (or NULL).
static X509 *trusted_issuer(SSL *ssl, X509 *leaf, STACK_OF(X509) *ca_certs, STACK_OF(X509) *candidates, rocsp_result *r) {
    STACK_OF(X509) *served = SSL_get_peer_cert_chain(ssl);
    if (sk_X509_num(ca_certs) == 0) {
        r->chain_verified = -1;
        X509 *issuer = find_issuer(leaf, candidates);
        if (issuer != NULL) X509_up_ref(issuer);
        return issuer;
    }
    X509 *issuer = NULL;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL) goto done;
    for (int i = 0; i < sk_X509_num(ca_certs); i++) X509_STORE_add_cert(store, sk_X509_value(ca_certs, i));
    // An intermediate in the bundle may be the anchor, as with a cluster's own CA file.
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_STORE_CTX_init(ctx, store, leaf, served) != 1) goto done;
    if (X509_verify_cert(ctx) == 1) {
        r->chain_verified = 1;
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        issuer = sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : find_issuer(leaf, ca_certs);
        if (issuer != NULL) X509_up_ref(issuer);
    } else {
        r->chain_verified = 0;
        note(r, "the served chain does not verify against ca_file: %s",
             X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
done:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return issuer;
}

/// Copies the leaf and its issuer (DER) and the leaf's first OCSP URL out, for the responder
/// probe; a certificate larger than the buffers is left out.
static void keep_certificates(X509 *leaf, X509 *issuer, rocsp_certificates *keep) {
    int leaf_length = i2d_X509(leaf, NULL), issuer_length = i2d_X509(issuer, NULL);
    if (leaf_length > 0 && issuer_length > 0 && leaf_length <= ROCSP_MAX_DER && issuer_length <= ROCSP_MAX_DER) {
        unsigned char *out = keep->leaf;
        i2d_X509(leaf, &out);
        out = keep->issuer;
        i2d_X509(issuer, &out);
        keep->leaf_length = (size_t)leaf_length;
        keep->issuer_length = (size_t)issuer_length;
    }
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(leaf);
    if (urls != NULL && sk_OPENSSL_STRING_num(urls) > 0) snprintf(keep->ocsp_url, sizeof keep->ocsp_url, "%s", sk_OPENSSL_STRING_value(urls, 0));
    X509_email_free(urls);
    ERR_clear_error();
}

void rocsp_probe(const char *host, int port, const char *server_name, const char *ca_pem, size_t ca_pem_length,
                 int timeout_ms, rocsp_certificates *keep, rocsp_result *r) {
    memset(r, 0, sizeof *r);
    if (keep != NULL) {
        keep->leaf_length = keep->issuer_length = 0;
        keep->ocsp_url[0] = 0;
    }
    r->response_status = -1;
    r->cert_status = ROCSP_STATUS_NONE;
    int64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    char error[200];
    SSL_CTX *context = NULL;
    SSL *ssl = NULL;

    int fd = connect_before(host, port, deadline, r);
    if (fd < 0) return;
    context = SSL_CTX_new(TLS_client_method());
    ssl = context != NULL ? SSL_new(context) : NULL;
    if (ssl == NULL) {
        fail(r, ROCSP_TLS_ERROR, "cannot set up TLS: %s", openssl_error(error, sizeof error));
        goto done;
    }
    // The chain is not verified here: a client that does not trust it never gets to the
    // staple, and the probe's job is to report the staple. The staple's own signature is.
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
    const char *sni = server_name != NULL ? server_name : host;
    // SNI carries host names only, never an IP literal.
    unsigned char ip[16];
    if (inet_pton(AF_INET, sni, ip) != 1 && inet_pton(AF_INET6, sni, ip) != 1) SSL_set_tlsext_host_name(ssl, sni);
    SSL_set_fd(ssl, fd);

    for (;;) {
        ERR_clear_error();
        int rc = SSL_connect(ssl);
        if (rc == 1) break;
        int reason = SSL_get_error(ssl, rc);
        int ready;
        if (reason == SSL_ERROR_WANT_READ) {
            ready = wait_for(fd, POLLIN, deadline);
        } else if (reason == SSL_ERROR_WANT_WRITE) {
            ready = wait_for(fd, POLLOUT, deadline);
        } else if (reason == SSL_ERROR_SSL) {
            fail(r, ROCSP_TLS_ERROR, "TLS handshake failed: %s", openssl_error(error, sizeof error));
            goto done;
        } else {
            // The peer hung up mid-handshake: a dropped connection, not a certificate problem.
            fail(r, ROCSP_CONNECTION_FAILED, "connection closed during the TLS handshake");
            goto done;
        }
        if (ready == 0) {
            fail(r, ROCSP_TIMEOUT, "TLS handshake not complete within the timeout");
            goto done;
        }
        if (ready < 0) {
            fail(r, ROCSP_CONNECTION_FAILED, "poll failed: %s", strerror(errno));
            goto done;
        }
    }

    const unsigned char *staple = NULL;
    long length = SSL_get_tlsext_status_ocsp_resp(ssl, &staple);
    r->staple_present = length > 0 && staple != NULL;
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    if (leaf != NULL) {
        r->not_after = unix_time(X509_get0_notAfter(leaf), &r->has_not_after);
        unsigned int digest_length = 0;
        r->has_leaf_sha256 = X509_digest(leaf, EVP_sha256(), r->leaf_sha256, &digest_length) == 1 && digest_length == 32;
        STACK_OF(X509) *ca_certs = read_certificates(ca_pem, ca_pem_length);
        // Where a delegated responder's certificate may chain to: what was served, then the bundle.
        STACK_OF(X509) *candidates = sk_X509_new_null();
        STACK_OF(X509) *served = SSL_get_peer_cert_chain(ssl);
        for (int i = 0; candidates != NULL && served != NULL && i < sk_X509_num(served); i++) sk_X509_push(candidates, sk_X509_value(served, i));
        for (int i = 0; candidates != NULL && i < sk_X509_num(ca_certs); i++) sk_X509_push(candidates, sk_X509_value(ca_certs, i));
        X509 *issuer = trusted_issuer(ssl, leaf, ca_certs, candidates, r);
        if (r->staple_present) check_response(leaf, issuer, candidates, staple, length, "the staple", r);
        if (keep != NULL && issuer != NULL) keep_certificates(leaf, issuer, keep);
        X509_free(issuer);
        sk_X509_free(candidates);
        sk_X509_pop_free(ca_certs, X509_free);
    }
    X509_free(leaf);
    // close_notify is a courtesy; the socket is non-blocking, so this never waits.
    SSL_shutdown(ssl);

done:
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(context);
    close(fd);
}

int rocsp_certificate_info(const char *pem, size_t pem_length, int64_t *not_after, unsigned char sha256[32]) {
    if (pem == NULL || pem_length == 0 || pem_length > INT32_MAX) return 0;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
    if (bio == NULL) return 0;
    X509 *certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (certificate == NULL) return 0;
    int has = 0;
    *not_after = unix_time(X509_get0_notAfter(certificate), &has);
    unsigned int digest_length = 0;
    int ok = has && X509_digest(certificate, EVP_sha256(), sha256, &digest_length) == 1 && digest_length == 32;
    X509_free(certificate);
    return ok;
}

/// Decodes a leaf and its issuer from DER; 1 when both parse.
static int decode_pair(const unsigned char *leaf_der, size_t leaf_length, const unsigned char *issuer_der, size_t issuer_length,
                       X509 **leaf, X509 **issuer) {
    *leaf = leaf_length > 0 && leaf_length <= INT32_MAX ? d2i_X509(NULL, &leaf_der, (long)leaf_length) : NULL;
    *issuer = issuer_length > 0 && issuer_length <= INT32_MAX ? d2i_X509(NULL, &issuer_der, (long)issuer_length) : NULL;
    ERR_clear_error();
    return *leaf != NULL && *issuer != NULL;
}

size_t rocsp_request(const unsigned char *leaf_der, size_t leaf_length, const unsigned char *issuer_der, size_t issuer_length,
                     unsigned char *out, size_t capacity) {
    X509 *leaf = NULL, *issuer = NULL;
    OCSP_REQUEST *request = NULL;
    size_t written = 0;
    if (!decode_pair(leaf_der, leaf_length, issuer_der, issuer_length, &leaf, &issuer)) goto done;
    request = OCSP_REQUEST_new();
    OCSP_CERTID *id = request != NULL ? OCSP_cert_to_id(NULL, leaf, issuer) : NULL;
    if (id == NULL) goto done;
    if (OCSP_request_add0_id(request, id) == NULL) {
        OCSP_CERTID_free(id);
        goto done;
    }
    int length = i2d_OCSP_REQUEST(request, NULL);
    if (length > 0 && (size_t)length <= capacity) {
        unsigned char *cursor = out;
        if (i2d_OCSP_REQUEST(request, &cursor) == length) written = (size_t)length;
    }
done:
    ERR_clear_error();
    OCSP_REQUEST_free(request);
    X509_free(leaf);
    X509_free(issuer);
    return written;
}

void rocsp_check_response(const unsigned char *leaf_der, size_t leaf_length, const unsigned char *issuer_der, size_t issuer_length,
                          const unsigned char *response, size_t response_length, rocsp_result *r) {
    memset(r, 0, sizeof *r);
    r->response_status = -1;
    r->cert_status = ROCSP_STATUS_NONE;
    X509 *leaf = NULL, *issuer = NULL;
    if (!decode_pair(leaf_der, leaf_length, issuer_der, issuer_length, &leaf, &issuer) || response_length > INT32_MAX) {
        note(r, "the certificate or its issuer does not parse");
    } else {
        STACK_OF(X509) *candidates = sk_X509_new_null();
        if (candidates != NULL) sk_X509_push(candidates, issuer);
        r->staple_present = 1;
        check_response(leaf, issuer, candidates, response, (long)response_length, "the responder's answer", r);
        sk_X509_free(candidates);
    }
    ERR_clear_error();
    X509_free(leaf);
    X509_free(issuer);
}

void rocsp_sha256(const void *data, size_t length, unsigned char digest[32]) {
    unsigned int written = 0;
    if (EVP_Digest(data, length, digest, &written, EVP_sha256(), NULL) != 1 || written != 32) memset(digest, 0, 32);
    ERR_clear_error();
}
