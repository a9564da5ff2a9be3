/* SPDX-License-Identifier: MIT */
/* apica.c - see apica.h. The DER form is made from the PEM with OpenSSL at each request (a
 * rare one), so that the proxy hands the web layer one form only. */
#include "apica.h"

#include "reply.h"
#include "util.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

void apica_reply(const struct api *a, int der, struct api_reply *r)
{
	if (!a->ca_pem) {
		reply_error(r, 404, "no CA certificate");
		return;
	}
	if (!der) {
		r->status = 200;
		r->content_type = "application/x-pem-file";
		r->body = xstrndup(a->ca_pem, a->ca_pem_len);
		r->len = a->ca_pem_len;
	} else {
		BIO *bio = BIO_new_mem_buf(a->ca_pem, (int)a->ca_pem_len);
		X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		unsigned char *out = NULL;
		int n = x ? i2d_X509(x, &out) : -1;
		X509_free(x);
		BIO_free(bio);
		if (n <= 0) {
			reply_error(r, 500, "the CA certificate does not parse");
			return;
		}
		r->status = 200;
		r->content_type = "application/x-x509-ca-cert";
		r->body = xmalloc((size_t)n);
		memcpy(r->body, out, (size_t)n);
		r->len = (size_t)n;
		OPENSSL_free(out);
	}
	snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"flowscope-ca.%s\"",
		 der ? "der" : "pem");
}
