/* SPDX-License-Identifier: MIT */
/* certforge.c - the local CA, forged leaf certificates and their cache.
 *
 * certforge_open() loads ca.pem + ca.key from the config directory, or creates a new EC
 * P-256 CA there when neither exists (a lone ca.pem or ca.key is an error: we never
 * overwrite half of someone's CA). ca.key is created with O_EXCL and mode 0600, so it never
 * exists with wider permissions; ca.der is (re)written whenever it is missing. One EC P-256
 * key is generated per run and shared by every leaf.
 *
 * certforge_issue() builds a leaf from the upstream certificate (CN and DNS/IP SANs copied,
 * the requested host added when no SAN covers it) and signs it with the CA. Leaves are cached
 * by SHA-256(host, upstream fingerprint) in a hash table with an LRU list bounded at
 * CACHE_MAX entries. The mutex guards only the table: forging happens outside it, and when
 * two threads forge the same leaf at once the first to insert wins and the other copy is
 * dropped. The cache holds one reference per entry; callers get their own. An entry is
 * forged anew a day before its leaf would expire.
 */
/* The leaf key is made with the legacy EC_KEY calls on purpose (see make_leaf_key). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "certforge.h"

#include "sslerr.h"
#include "url.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CACHE_MAX 4096	   /* forged leaves kept; the least recently used goes first */
#define CACHE_BUCKETS 8192 /* power of two, twice CACHE_MAX */
#define CA_DAYS 3650	   /* about ten years */
/* Chromium rejects leaves valid for more than 398 days; we stay well under 200. */
#define LEAF_DAYS 180
/* Back-dating covers clients whose clocks run a little behind ours. */
#define BACKDATE_SECS 3600
/* ub-common-name (RFC 5280): a longer host cannot be a CN, only a SAN. */
#define CN_MAX 64

struct entry {
	unsigned char key[32]; /* SHA-256 of host and upstream fingerprint */
	X509 *cert;	       /* owned: the cache's reference */
	time_t stale_at;       /* re-forge from here on, a day before the leaf expires */
	struct entry *hnext;   /* next in the same bucket */
	struct entry *prev;    /* LRU neighbour towards the most recent (head) */
	struct entry *next;    /* LRU neighbour towards the least recent (tail) */
};

struct certforge {
	X509 *ca;	    /* owned */
	EVP_PKEY *ca_key;   /* owned */
	EVP_PKEY *leaf_key; /* owned; shared by every leaf */
	char *ca_pem;	    /* owned, NUL-terminated */
	size_t ca_pem_len;
	unsigned char *ca_der; /* owned */
	size_t ca_der_len;
	pthread_mutex_t lock; /* guards everything below */
	struct entry *buckets[CACHE_BUCKETS];
	struct entry *head; /* most recently used */
	struct entry *tail; /* least recently used, evicted first */
	size_t num_entries;
	size_t max_entries; /* CACHE_MAX unless certforge_set_cache_limit() said otherwise */
};

/* ---- small helpers ---- */

static const EVP_MD *sign_md(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_id(key);
	/* EdDSA signs the message itself: no separate digest may be named. */
	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
}

static int random_serial(X509 *x)
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	b[0] = (b[0] & 0x7f) | 0x40; /* positive, and always the full 128 bits long */
	BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
	int rc = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ? 0 : -1;
	BN_free(bn);
	return rc;
}

/* Adds one extension in openssl.cnf syntax; ctx names issuer and subject for SKI/AKI. */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (!ext)
		return -1;
	int rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Creates path exclusively with mode and writes data; never replaces an existing file. */
static int write_new_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = errno;
			close(fd);
			unlink(path);
			errno = saved;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

/* mkdir -p, new directories 0700 (the CA key lives there). */
static int make_dirs(const char *dir)
{
	char *path = xstrdup(dir);
	int rc = 0;
	for (char *p = path + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	free(path);
	struct stat st;
	if (rc == 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		errno = ENOTDIR;
		rc = -1;
	}
	return rc;
}

/* ---- the CA ---- */

/* The shared leaf key, P-256, made through the legacy EC_KEY interface on purpose: OpenSSL
 * 3.0 puts a provider key into a certificate (X509_set_pubkey) by encoding it and decoding it
 * again, and that decoder's set-up was the largest single cost of forging a leaf (about
 * 0.5 ms per new host here). A legacy key is encoded directly and decoded never. */
static EVP_PKEY *make_leaf_key(void)
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *key = EVP_PKEY_new();
	if (!ec || !key || EC_KEY_generate_key(ec) != 1 || EVP_PKEY_assign_EC_KEY(key, ec) != 1) {
		EC_KEY_free(ec);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

static X509 *make_ca_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	if (!x || X509_set_version(x, X509_VERSION_3) != 1 || random_serial(x) != 0)
		goto fail;
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"flowscope",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"flowscope CA", -1, -1, 0) ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_SECS) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), CA_DAYS, 0, NULL) ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") != 0)
		goto fail;
	if (X509_sign(x, key, sign_md(key)) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Creates a new CA and writes ca.key (0600, exclusively) and ca.pem into dir. */
static int create_ca(struct certforge *cf, const char *key_path, const char *pem_path, char *err,
		     size_t errlen)
{
	BIO *mem = NULL;
	char *data;
	long n;
	cf->ca_key = EVP_EC_gen("P-256");
	if (!cf->ca_key) {
		sslerr_fill(err, errlen, "generating the CA key");
		return -1;
	}
	cf->ca = make_ca_cert(cf->ca_key);
	if (!cf->ca) {
		sslerr_fill(err, errlen, "creating the CA certificate");
		return -1;
	}
	/* The key first: if it cannot be written, no certificate appears without it. */
	mem = BIO_new(BIO_s_mem());
	if (!mem || PEM_write_bio_PrivateKey(mem, cf->ca_key, NULL, NULL, 0, NULL, NULL) != 1) {
		sslerr_fill(err, errlen, "encoding the CA key");
		goto fail;
	}
	n = BIO_get_mem_data(mem, &data);
	if (write_new_file(key_path, data, (size_t)n, 0600) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", key_path, strerror(errno));
		goto fail;
	}
	OPENSSL_cleanse(data, (size_t)n);
	BIO_free(mem);
	mem = BIO_new(BIO_s_mem());
	if (!mem || PEM_write_bio_X509(mem, cf->ca) != 1) {
		sslerr_fill(err, errlen, "encoding the CA certificate");
		goto fail;
	}
	n = BIO_get_mem_data(mem, &data);
	if (write_new_file(pem_path, data, (size_t)n, 0644) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", pem_path, strerror(errno));
		goto fail;
	}
	BIO_free(mem);
	log_info("certforge: created a new CA in %s", pem_path);
	return 0;
fail:
	BIO_free(mem);
	return -1;
}

static int load_ca(struct certforge *cf, const char *key_path, const char *pem_path, char *err,
		   size_t errlen)
{
	struct stat st;
	if (stat(key_path, &st) == 0 && (st.st_mode & 077))
		log_warn("certforge: %s is accessible by group or others (mode %03o); "
			 "run chmod 600 on it",
			 key_path, (unsigned)(st.st_mode & 0777));
	FILE *fp = fopen(pem_path, "r");
	if (!fp) {
		snprintf(err, errlen, "cannot open %s: %s", pem_path, strerror(errno));
		return -1;
	}
	cf->ca = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (!cf->ca) {
		sslerr_fill(err, errlen, "cannot read the CA certificate in ca.pem");
		return -1;
	}
	fp = fopen(key_path, "r");
	if (!fp) {
		snprintf(err, errlen, "cannot open %s: %s", key_path, strerror(errno));
		return -1;
	}
	/* An empty passphrase callback result makes an encrypted key fail instead of prompting. */
	cf->ca_key = PEM_read_PrivateKey(fp, NULL, NULL, (void *)"");
	fclose(fp);
	if (!cf->ca_key) {
		sslerr_fill(err, errlen,
			"cannot read the CA key in ca.key (encrypted keys are not "
			"supported)");
		return -1;
	}
	if (X509_check_private_key(cf->ca, cf->ca_key) != 1) {
		sslerr_fill(err, errlen, "ca.key does not belong to the certificate in ca.pem");
		return -1;
	}
	if (X509_check_ca(cf->ca) == 0)
		log_warn("certforge: %s is not marked as a CA; clients will reject its leaves",
			 pem_path);
	return 0;
}

/* Keeps PEM and DER copies for the certificate download page; writes ca.der if missing. */
static int export_ca(struct certforge *cf, const char *der_path, char *err, size_t errlen)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data;
	if (!mem || PEM_write_bio_X509(mem, cf->ca) != 1) {
		BIO_free(mem);
		sslerr_fill(err, errlen, "encoding the CA certificate");
		return -1;
	}
	long n = BIO_get_mem_data(mem, &data);
	cf->ca_pem = xstrndup(data, (size_t)n);
	cf->ca_pem_len = (size_t)n;
	BIO_free(mem);
	int len = i2d_X509(cf->ca, NULL);
	if (len <= 0) {
		sslerr_fill(err, errlen, "encoding the CA certificate as DER");
		return -1;
	}
	cf->ca_der = xmalloc((size_t)len);
	unsigned char *p = cf->ca_der;
	i2d_X509(cf->ca, &p);
	cf->ca_der_len = (size_t)len;
	if (!file_exists(der_path) &&
	    write_new_file(der_path, cf->ca_der, cf->ca_der_len, 0644) != 0 && errno != EEXIST)
		log_warn("certforge: cannot write %s: %s", der_path, strerror(errno));
	return 0;
}

struct certforge *certforge_open(const char *dir, char *err, size_t errlen)
{
	struct certforge *cf = xcalloc(1, sizeof *cf);
	char *key_path = xasprintf("%s/ca.key", dir);
	char *pem_path = xasprintf("%s/ca.pem", dir);
	char *der_path = xasprintf("%s/ca.der", dir);
	char dummy[1];
	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	pthread_mutex_init(&cf->lock, NULL);
	cf->max_entries = CACHE_MAX;

	if (make_dirs(dir) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	int have_key = file_exists(key_path), have_pem = file_exists(pem_path);
	if (have_key && have_pem) {
		if (load_ca(cf, key_path, pem_path, err, errlen) != 0)
			goto fail;
	} else if (have_key || have_pem) {
		snprintf(err, errlen,
			 "%s exists without %s: supply both, or remove it to create "
			 "a new CA",
			 have_key ? key_path : pem_path, have_key ? pem_path : key_path);
		goto fail;
	} else if (create_ca(cf, key_path, pem_path, err, errlen) != 0) {
		goto fail;
	}
	if (export_ca(cf, der_path, err, errlen) != 0)
		goto fail;
	cf->leaf_key = make_leaf_key();
	if (!cf->leaf_key) {
		sslerr_fill(err, errlen, "generating the leaf key");
		goto fail;
	}
	free(key_path);
	free(pem_path);
	free(der_path);
	return cf;
fail:
	free(key_path);
	free(pem_path);
	free(der_path);
	certforge_free(cf);
	return NULL;
}

void certforge_free(struct certforge *cf)
{
	if (!cf)
		return;
	for (struct entry *e = cf->head, *next; e; e = next) {
		next = e->next;
		X509_free(e->cert);
		free(e);
	}
	X509_free(cf->ca);
	EVP_PKEY_free(cf->ca_key);
	EVP_PKEY_free(cf->leaf_key);
	free(cf->ca_pem);
	free(cf->ca_der);
	pthread_mutex_destroy(&cf->lock);
	free(cf);
}

EVP_PKEY *certforge_leaf_key(struct certforge *cf)
{
	return cf->leaf_key;
}

X509 *certforge_ca_cert(struct certforge *cf)
{
	return cf->ca;
}

const char *certforge_ca_pem(const struct certforge *cf, size_t *len)
{
	if (len)
		*len = cf->ca_pem_len;
	return cf->ca_pem;
}

const unsigned char *certforge_ca_der(const struct certforge *cf, size_t *len)
{
	if (len)
		*len = cf->ca_der_len;
	return cf->ca_der;
}

/* ---- forging ---- */

/* A host as it goes into a certificate: no "[...]" around IPv6, no root dot, lower case. */
static char *normalize_host(const char *host)
{
	char *s = url_bare_host(host);
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Does the DNS SAN match host? Exact (any case), or a "*." wildcard standing for
 * exactly one non-empty leftmost label, as RFC 6125 6.4.3 and browsers allow. */
static int dns_covers(const ASN1_IA5STRING *san, const char *host)
{
	const char *p = (const char *)ASN1_STRING_get0_data(san);
	size_t n = (size_t)ASN1_STRING_length(san), hlen = strlen(host);
	if (!p || n == 0 || memchr(p, '\0', n))
		return 0;
	if (n == hlen && strncasecmp(p, host, n) == 0)
		return 1;
	if (n > 2 && p[0] == '*' && p[1] == '.') {
		const char *dot = strchr(host, '.');
		if (!dot || dot == host)
			return 0;
		size_t rest = hlen - (size_t)(dot - host);
		return rest == n - 1 && strncasecmp(dot, p + 1, rest) == 0;
	}
	return 0;
}

/* Copies the DNS and IP SANs of upstream, and adds host unless one of them covers it. */
static GENERAL_NAMES *build_sans(const char *host, X509 *upstream)
{
	GENERAL_NAMES *out = sk_GENERAL_NAME_new_null();
	unsigned char ip[16];
	int ip_len = 0;
	if (!out)
		return NULL;
	if (inet_pton(AF_INET, host, ip) == 1)
		ip_len = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		ip_len = 16;
	int covered = host[0] == '\0';
	GENERAL_NAMES *up =
	    upstream ? X509_get_ext_d2i(upstream, NID_subject_alt_name, NULL, NULL) : NULL;
	for (int i = 0; i < sk_GENERAL_NAME_num(up); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(up, i);
		if (gn->type == GEN_DNS) {
			if (!ip_len && dns_covers(gn->d.dNSName, host))
				covered = 1;
		} else if (gn->type == GEN_IPADD) {
			if (ip_len && ASN1_STRING_length(gn->d.iPAddress) == ip_len &&
			    memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), ip, ip_len) == 0)
				covered = 1;
		} else {
			continue; /* email, URI, ...: meaningless for a TLS server */
		}
		GENERAL_NAME *copy = GENERAL_NAME_dup(gn);
		if (!copy || !sk_GENERAL_NAME_push(out, copy)) {
			GENERAL_NAME_free(copy);
			goto fail;
		}
	}
	GENERAL_NAMES_free(up);
	up = NULL;
	if (!covered) {
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_STRING *s = ip_len ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
		if (!gn || !s ||
		    !ASN1_STRING_set(s, ip_len ? (const void *)ip : (const void *)host,
				     ip_len ? ip_len : (int)strlen(host))) {
			ASN1_STRING_free(s);
			GENERAL_NAME_free(gn);
			goto fail;
		}
		GENERAL_NAME_set0_value(gn, ip_len ? GEN_IPADD : GEN_DNS, s);
		if (!sk_GENERAL_NAME_push(out, gn)) {
			GENERAL_NAME_free(gn);
			goto fail;
		}
	}
	return out;
fail:
	GENERAL_NAMES_free(up);
	GENERAL_NAMES_free(out);
	return NULL;
}

static X509 *forge(struct certforge *cf, const char *host, X509 *upstream)
{
	X509 *x = X509_new();
	GENERAL_NAMES *sans = NULL;
	X509V3_CTX ctx;
	if (!x || X509_set_version(x, X509_VERSION_3) != 1 || random_serial(x) != 0 ||
	    X509_set_issuer_name(x, X509_get_subject_name(cf->ca)) != 1)
		goto fail;

	/* Subject: the upstream's CN as it was encoded, else host when it fits a CN. */
	X509_NAME *subj = X509_get_subject_name(x);
	X509_NAME *up_subj = upstream ? X509_get_subject_name(upstream) : NULL;
	int cn = up_subj ? X509_NAME_get_index_by_NID(up_subj, NID_commonName, -1) : -1;
	if (cn >= 0) {
		if (X509_NAME_add_entry(subj, X509_NAME_get_entry(up_subj, cn), -1, 0) != 1)
			goto fail;
	} else if (host[0] != '\0' && strlen(host) <= CN_MAX) {
		if (X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_ASC,
					       (const unsigned char *)host, -1, -1, 0) != 1)
			goto fail;
	}

	if (!X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_SECS) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), LEAF_DAYS, 0, NULL) ||
	    X509_set_pubkey(x, cf->leaf_key) != 1)
		goto fail;

	X509V3_set_ctx(&ctx, cf->ca, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid") != 0)
		goto fail;

	/* Browsers look only at SANs. With an empty subject the SAN must be critical (RFC
	 * 5280 4.2.1.6). */
	sans = build_sans(host, upstream);
	if (!sans)
		goto fail;
	if (sk_GENERAL_NAME_num(sans) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, sans, X509_NAME_entry_count(subj) == 0,
			      X509V3_ADD_DEFAULT) != 1)
		goto fail;
	GENERAL_NAMES_free(sans);
	sans = NULL;

	if (X509_sign(x, cf->ca_key, sign_md(cf->ca_key)) <= 0)
		goto fail;
	return x;
fail : {
	char buf[256];
	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	log_error("certforge: cannot forge a certificate for %s: %s", host, buf);
	ERR_clear_error();
}
	GENERAL_NAMES_free(sans);
	X509_free(x);
	return NULL;
}

/* ---- the cache ---- */

static int cache_key(const char *host, X509 *upstream, unsigned char key[32])
{
	size_t hlen = strlen(host);
	unsigned char fp[EVP_MAX_MD_SIZE];
	unsigned int fp_len = 0;
	if (upstream && X509_digest(upstream, EVP_sha256(), fp, &fp_len) != 1)
		return -1;
	/* host, a NUL that no host contains, then the fingerprint (or nothing). */
	unsigned char *buf = xmalloc(hlen + 1 + fp_len);
	memcpy(buf, host, hlen + 1);
	memcpy(buf + hlen + 1, fp, fp_len);
	int rc = EVP_Digest(buf, hlen + 1 + fp_len, key, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
	free(buf);
	return rc;
}

static struct entry **bucket(struct certforge *cf, const unsigned char key[32])
{
	size_t h = (size_t)key[0] | (size_t)key[1] << 8 | (size_t)key[2] << 16;
	return &cf->buckets[h & (CACHE_BUCKETS - 1)];
}

static void lru_unlink(struct certforge *cf, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		cf->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		cf->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_head(struct certforge *cf, struct entry *e)
{
	e->prev = NULL;
	e->next = cf->head;
	if (cf->head)
		cf->head->prev = e;
	cf->head = e;
	if (!cf->tail)
		cf->tail = e;
}

/* With the lock held: unlinks e from its bucket and the LRU list and frees it. */
static void cache_remove(struct certforge *cf, struct entry *e)
{
	lru_unlink(cf, e);
	for (struct entry **pp = bucket(cf, e->key); *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	X509_free(e->cert);
	free(e);
	cf->num_entries--;
}

/* With the lock held: the entry for key, moved to the LRU head, or NULL. An entry close to
 * expiry is dropped instead, so a long-running proxy never serves an expired leaf. */
static struct entry *cache_find(struct certforge *cf, const unsigned char key[32])
{
	for (struct entry *e = *bucket(cf, key); e; e = e->hnext) {
		if (memcmp(e->key, key, 32) != 0)
			continue;
		if (time(NULL) >= e->stale_at) {
			cache_remove(cf, e);
			return NULL;
		}
		lru_unlink(cf, e);
		lru_push_head(cf, e);
		return e;
	}
	return NULL;
}

/* With the lock held: drops the least recently used entry. */
static void cache_evict(struct certforge *cf)
{
	if (cf->tail)
		cache_remove(cf, cf->tail);
}

void certforge_set_cache_limit(struct certforge *cf, size_t max)
{
	pthread_mutex_lock(&cf->lock);
	cf->max_entries = max ? max : 1;
	while (cf->num_entries > cf->max_entries)
		cache_evict(cf);
	pthread_mutex_unlock(&cf->lock);
}

X509 *certforge_issue(struct certforge *cf, const char *host, X509 *upstream)
{
	char *name = normalize_host(host);
	unsigned char key[32];
	X509 *leaf = NULL;
	if (cache_key(name, upstream, key) != 0) {
		log_error("certforge: cannot fingerprint the upstream certificate of %s", name);
		ERR_clear_error();
		goto out;
	}
	pthread_mutex_lock(&cf->lock);
	struct entry *e = cache_find(cf, key);
	if (e) {
		leaf = e->cert;
		X509_up_ref(leaf);
	}
	pthread_mutex_unlock(&cf->lock);
	if (leaf)
		goto out;

	/* Forge outside the lock: signing is the slow part and other hosts need not wait. */
	leaf = forge(cf, name, upstream);
	if (!leaf)
		goto out;
	pthread_mutex_lock(&cf->lock);
	e = cache_find(cf, key);
	if (e) {
		/* Another thread forged the same leaf meanwhile: everyone gets the cached one. */
		X509_free(leaf);
		leaf = e->cert;
	} else {
		while (cf->num_entries >= cf->max_entries)
			cache_evict(cf);
		e = xcalloc(1, sizeof *e);
		memcpy(e->key, key, sizeof e->key);
		e->cert = leaf; /* the cache keeps forge()'s reference */
		e->stale_at = time(NULL) + (LEAF_DAYS - 1) * 86400;
		struct entry **b = bucket(cf, key);
		e->hnext = *b;
		*b = e;
		lru_push_head(cf, e);
		cf->num_entries++;
	}
	X509_up_ref(leaf);
	pthread_mutex_unlock(&cf->lock);
out:
	free(name);
	return leaf;
}
