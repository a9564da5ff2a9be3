/* SPDX-License-Identifier: MIT */
/* test_certforge.c - the CA's life cycle in a temporary directory, and forged leaves checked
 * the way a client checks them: chain verification against the CA, host and IP matching,
 * SANs, validity, key usage; the cache, its bound, and four threads issuing at once. */
#include "certforge.h"

#include "harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static char dir[] = "/tmp/test_certforge.XXXXXX";

static char *path_in(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

/* Chain verification as a TLS client does it, plus the host or IP check. */
static int verifies(X509 *ca, X509 *leaf, const char *host, const char *ip)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = 0;
	if (!store || !ctx || X509_STORE_add_cert(store, ca) != 1 ||
	    X509_STORE_CTX_init(ctx, store, leaf, NULL) != 1)
		goto end;
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	if (host)
		X509_VERIFY_PARAM_set1_host(param, host, 0);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(param, ip);
	rc = X509_verify_cert(ctx) == 1;
end:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

static int count_sans(X509 *x, int type)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = 0;
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		if (type < 0 || sk_GENERAL_NAME_value(gens, i)->type == type)
			n++;
	GENERAL_NAMES_free(gens);
	return n;
}

static int has_cn(X509 *x, const char *cn)
{
	char buf[256];
	return X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
					 sizeof buf) > 0 &&
	       strcmp(buf, cn) == 0;
}

static void test_ca_lifecycle(void)
{
	char err[256] = "";
	struct stat st;
	struct certforge *cf = certforge_open(dir, err, sizeof err), *cf2 = NULL;
	ok(cf != NULL);
	if (!cf) {
		fprintf(stderr, "certforge_open: %s\n", err);
		return;
	}
	ok(stat(path_in("ca.key"), &st) == 0 && (st.st_mode & 0777) == 0600);
	ok(stat(path_in("ca.pem"), &st) == 0);
	ok(stat(path_in("ca.der"), &st) == 0);
	X509 *ca = certforge_ca_cert(cf);
	ok(X509_check_ca(ca) == 1);
	ok(has_cn(ca, "flowscope CA"));
	ok(X509_get_extension_flags(ca) & EXFLAG_CA);
	ok(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
	ok(X509_get0_subject_key_id(ca) != NULL);
	ok(X509_check_issued(ca, ca) == X509_V_OK);

	size_t pem_len = 0, der_len = 0;
	const char *pem = certforge_ca_pem(cf, &pem_len);
	const unsigned char *der = certforge_ca_der(cf, &der_len);
	ok(pem && pem_len > 0 && strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
	ok(der && der_len == (size_t)st.st_size);

	/* ca.der missing: rewritten from the loaded CA; the second open loads the same CA. */
	unlink(path_in("ca.der"));
	cf2 = certforge_open(dir, err, sizeof err);
	ok(cf2 != NULL);
	if (!cf2)
		goto end;
	ok(X509_cmp(certforge_ca_cert(cf2), ca) == 0);
	ok(stat(path_in("ca.der"), &st) == 0 && (size_t)st.st_size == der_len);
	ok(EVP_PKEY_eq(certforge_leaf_key(cf2), certforge_leaf_key(cf)) != 1);

end:
	certforge_free(cf2);
	certforge_free(cf);
}

static void test_half_ca_refused(void)
{
	char sub[300], err[256] = "";
	snprintf(sub, sizeof sub, "%s/half", dir);
	mkdir(sub, 0700);
	char key[320];
	snprintf(key, sizeof key, "%s/ca.key", sub);
	FILE *fp = fopen(key, "w");
	if (fp)
		fclose(fp);
	struct certforge *cf = certforge_open(sub, err, sizeof err);
	ok(cf == NULL);
	ok(strstr(err, "ca.key") != NULL);
	certforge_free(cf);

	/* A nested directory that does not exist yet is created. */
	snprintf(sub, sizeof sub, "%s/new/deeper", dir);
	cf = certforge_open(sub, err, sizeof err);
	ok(cf != NULL);
	certforge_free(cf);
}

/* A fabricated upstream certificate: self-signed, with a CN and a mixed SAN list. */
static X509 *make_upstream(const char *cn, const char *san)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	if (cn)
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					   (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O", MBSTRING_ASC,
				   (const unsigned char *)"Upstream Inc", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (san) {
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, key, EVP_sha256());
	EVP_PKEY_free(key);
	return x;
}

/* Opens the CA in dir again; checks that it opens. */
static struct certforge *reopen(void)
{
	char err[256];
	struct certforge *cf = certforge_open(dir, err, sizeof err);
	ok(cf != NULL);
	if (!cf)
		fprintf(stderr, "certforge_open: %s\n", err);
	return cf;
}

static void test_leaf(void)
{
	struct certforge *cf = reopen();
	X509 *leaf = NULL, *up = NULL;
	if (!cf)
		return;
	X509 *ca = certforge_ca_cert(cf);

	/* No upstream: CN and one DNS SAN from the host. */
	leaf = certforge_issue(cf, "Example.TEST", NULL);
	ok(leaf != NULL);
	if (!leaf)
		goto end;
	ok(verifies(ca, leaf, "example.test", NULL));
	ok(X509_check_host(leaf, "example.test", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) ==
	   1);
	ok(has_cn(leaf, "example.test"));
	ok(count_sans(leaf, GEN_DNS) == 1);
	ok(X509_check_ca(leaf) == 0);
	ok(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
	ok(X509_get_key_usage(leaf) == KU_DIGITAL_SIGNATURE);
	ok(X509_get0_authority_key_id(leaf) != NULL &&
	   ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf), X509_get0_subject_key_id(ca)) ==
	       0);
	ok(X509_get_signature_nid(leaf) == NID_ecdsa_with_SHA256 ||
	   X509_get_signature_nid(leaf) == NID_sha256WithRSAEncryption);
	ok(X509_check_private_key(leaf, certforge_leaf_key(cf)) == 1);

	/* Validity: back-dated, under 200 days. */
	int days, secs;
	time_t now = time(NULL);
	ok(X509_cmp_time(X509_get0_notBefore(leaf), &(time_t){now - 1800}) < 0);
	ok(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)));
	ok(days > 30 && days < 200);

	/* Serial: random, positive, 128 bits. */
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	ok(bn && BN_num_bits(bn) == 127 && !BN_is_negative(bn));
	BN_free(bn);
	X509_free(leaf);

	/* Upstream: CN and DNS/IP SANs copied, the email dropped, host added only when the
	 * list does not cover it. */
	up = make_upstream("upstream.example",
			   "DNS:upstream.example,DNS:*.wild.example,IP:10.1.2.3,email:a@b.example");
	leaf = certforge_issue(cf, "a.wild.example", up);
	ok(leaf && has_cn(leaf, "upstream.example"));
	ok(leaf && count_sans(leaf, -1) == 3 && count_sans(leaf, GEN_IPADD) == 1);
	ok(leaf && verifies(ca, leaf, "a.wild.example", NULL));
	ok(leaf && verifies(ca, leaf, "upstream.example", NULL));
	ok(leaf && verifies(ca, leaf, NULL, "10.1.2.3"));
	ok(leaf && !verifies(ca, leaf, "b.a.wild.example", NULL));
	X509_free(leaf);
	leaf = certforge_issue(cf, "other.example", up);
	ok(leaf && count_sans(leaf, -1) == 4 && count_sans(leaf, GEN_DNS) == 3);
	ok(leaf && verifies(ca, leaf, "other.example", NULL));
	ok(leaf && verifies(ca, leaf, "upstream.example", NULL));
	X509_free(leaf);
	X509_free(up);

	/* Upstream without CN and without SANs: CN from host, DNS SAN added. */
	up = make_upstream(NULL, NULL);
	leaf = certforge_issue(cf, "nocn.example", up);
	ok(leaf && has_cn(leaf, "nocn.example") && count_sans(leaf, GEN_DNS) == 1);
	ok(leaf && verifies(ca, leaf, "nocn.example", NULL));
	X509_free(leaf);
	X509_free(up);

	/* IP literals get IP SANs, IPv6 too (with or without brackets). */
	leaf = certforge_issue(cf, "127.0.0.1", NULL);
	ok(leaf && count_sans(leaf, GEN_IPADD) == 1 && count_sans(leaf, GEN_DNS) == 0);
	ok(leaf && verifies(ca, leaf, NULL, "127.0.0.1"));
	ok(leaf && X509_check_ip_asc(leaf, "127.0.0.1", 0) == 1);
	X509_free(leaf);
	leaf = certforge_issue(cf, "[::1]", NULL);
	ok(leaf && count_sans(leaf, GEN_IPADD) == 1 && count_sans(leaf, GEN_DNS) == 0);
	ok(leaf && verifies(ca, leaf, NULL, "::1"));
	X509_free(leaf);
	/* Upstream with the IP already listed: not added twice. */
	up = make_upstream("x", "IP:192.0.2.7");
	leaf = certforge_issue(cf, "192.0.2.7", up);
	ok(leaf && count_sans(leaf, -1) == 1 && verifies(ca, leaf, NULL, "192.0.2.7"));
	X509_free(leaf);
	X509_free(up);

	/* A name too long for a CN still gets a (critical) SAN and verifies. */
	char longname[120];
	memset(longname, 'a', 100);
	strcpy(longname + 100, ".example");
	leaf = certforge_issue(cf, longname, NULL);
	ok(leaf && count_sans(leaf, GEN_DNS) == 1 && verifies(ca, leaf, longname, NULL));
	X509_free(leaf);
	leaf = NULL;
end:
	X509_free(leaf);
	certforge_free(cf);
}

static void test_cache(void)
{
	struct certforge *cf = reopen();
	if (!cf)
		return;
	X509 *a = certforge_issue(cf, "cache.example", NULL);
	X509 *b = certforge_issue(cf, "CACHE.example", NULL);
	X509 *c = certforge_issue(cf, "other.example", NULL);
	X509 *up = make_upstream("cache.example", "DNS:cache.example");
	X509 *d = certforge_issue(cf, "cache.example", up);
	X509 *e = certforge_issue(cf, "cache.example", up);
	ok(a && a == b);
	ok(c && c != a);
	ok(d && d != a && d == e);

	/* The bound: after 16 other hosts, the first entry has been evicted (the default
	 * bound of 4096 works the same, only slower to fill). */
	certforge_set_cache_limit(cf, 16);
	X509 *g = certforge_issue(cf, "cache.example", NULL);
	ok(g == a); /* still cached: it was the most recently used */
	X509_free(g);
	char name[64];
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof name, "h%d.fill.example", i);
		X509 *x = certforge_issue(cf, name, NULL);
		if (!x) {
			ok(x != NULL);
			break;
		}
		X509_free(x);
	}
	X509 *f = certforge_issue(cf, "cache.example", NULL);
	ok(f && f != a); /* a is still alive (we hold it), so a new leaf has a new address */
	X509_free(a);
	X509_free(b);
	X509_free(c);
	X509_free(d);
	X509_free(e);
	X509_free(f);
	X509_free(up);
	certforge_free(cf);
}

struct worker {
	struct certforge *cf;
	int id;
	int failures;
};

static void *issue_many(void *arg)
{
	struct worker *w = arg;
	char name[64];
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "t%d.threads.example", (i * 7 + w->id) % 40);
		X509 *x = certforge_issue(w->cf, name, NULL);
		if (!x || X509_check_host(x, name, 0, 0, NULL) != 1)
			w->failures++;
		X509_free(x);
	}
	return NULL;
}

static void test_threads(void)
{
	struct certforge *cf = reopen();
	pthread_t th[4];
	struct worker w[4];
	if (!cf)
		return;
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){cf, i, 0};
		pthread_create(&th[i], NULL, issue_many, &w[i]);
	}
	int failures = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	ok(failures == 0);
	/* Every host ended up with exactly one cached leaf. */
	X509 *x = certforge_issue(cf, "t3.threads.example", NULL);
	X509 *y = certforge_issue(cf, "t3.threads.example", NULL);
	ok(x && x == y);
	X509_free(x);
	X509_free(y);
	certforge_free(cf);
}

static void rm_rf(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	subtest("ca lifecycle", test_ca_lifecycle);
	subtest("half a CA is refused", test_half_ca_refused);
	subtest("leaf contents", test_leaf);
	subtest("cache", test_cache);
	subtest("threads", test_threads);
	rm_rf(dir);
	return harness_done();
}
