/* SPDX-License-Identifier: MIT */
/* options.c - command-line parsing with getopt_long; every value checked here so that the rest
 * of the program can trust struct options. */
#include "options.h"

#include "liveopts.h"
#include "url.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_LISTEN = 256,
	OPT_WEB,
	OPT_CONFDIR,
	OPT_DB,
	OPT_MODE,
	OPT_IGNORE,
	OPT_ALLOW,
	OPT_INSECURE,
	OPT_ANTICACHE,
	OPT_TOKEN,
	OPT_TOKEN_ROTATE,
	OPT_STATIC,
	OPT_THREADS,
	OPT_BODY_LIMIT,
	OPT_INTERCEPT_BUDGET,
	OPT_PROXYAUTH,
	OPT_UPSTREAM_AUTH,
	OPT_KEEP_HOST,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option longopts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"web", required_argument, NULL, OPT_WEB},
	{"confdir", required_argument, NULL, OPT_CONFDIR},
	{"db", required_argument, NULL, OPT_DB},
	{"mode", required_argument, NULL, OPT_MODE},
	{"ignore-hosts", required_argument, NULL, OPT_IGNORE},
	{"allow-hosts", required_argument, NULL, OPT_ALLOW},
	{"ssl-insecure", no_argument, NULL, OPT_INSECURE},
	{"anticache", no_argument, NULL, OPT_ANTICACHE},
	{"web-token", required_argument, NULL, OPT_TOKEN},
	{"web-token-rotate", no_argument, NULL, OPT_TOKEN_ROTATE},
	{"static-dir", required_argument, NULL, OPT_STATIC},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"body-limit", required_argument, NULL, OPT_BODY_LIMIT},
	{"intercept-budget", required_argument, NULL, OPT_INTERCEPT_BUDGET},
	{"proxyauth", required_argument, NULL, OPT_PROXYAUTH},
	{"upstream-auth", required_argument, NULL, OPT_UPSTREAM_AUTH},
	{"keep-host-header", no_argument, NULL, OPT_KEEP_HOST},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

const char *options_usage(void)
{
	return "usage: flowscope [options]\n"
	       "  --listen HOST:PORT     proxy address (default 127.0.0.1:8080)\n"
	       "  --web HOST:PORT        UI/API address (default 127.0.0.1:8081)\n"
	       "  --confdir DIR          CA and settings (default ~/.flowscope)\n"
	       "  --db FILE              flow store (default CONFDIR/flows.db)\n"
	       "  --mode MODE[@[HOST:]PORT]  a listener (repeatable; default: mitm on --listen)\n"
	       "                         mitm (or regular): decrypt HTTPS; forward: relay it\n"
	       "                         reverse:http[s]://HOST[:PORT]: send requests there\n"
	       "                         socks5: SOCKS5 CONNECTs, decrypted as mitm's\n"
	       "                         upstream:http://HOST:PORT: as mitm, through that proxy\n"
	       "                         transparent: connections redirected here by nftables or\n"
	       "                         iptables (Linux), decrypted as mitm's\n"
	       "  --proxyauth USER:PASS  clients of mitm, forward, upstream and socks5 listeners\n"
	       "                         must give these credentials\n"
	       "  --upstream-auth USER:PASS  credentials for the upstream: mode's proxy\n"
	       "  --keep-host-header     reverse listeners send the client's Host on, not the\n"
	       "                         server's\n"
	       "  --ignore-hosts REGEX   pass these host:port through undecrypted (repeatable)\n"
	       "  --allow-hosts REGEX    decrypt only these host:port (repeatable)\n"
	       "  --ssl-insecure         do not verify upstream certificates\n"
	       "  --anticache            strip If-None-Match and If-Modified-Since from requests,\n"
	       "                         so that every response has a body\n"
	       "  --web-token TOKEN      API token (default: the one kept in CONFDIR/web-token,\n"
	       "                         made at random on first start; printed at start)\n"
	       "  --web-token-rotate     replace the kept token with a new random one\n"
	       "  --static-dir DIR       serve the UI from DIR instead of the embedded copy\n"
	       "  --threads N            proxy workers (default: number of cores)\n"
	       "  --body-limit BYTES     stored bytes per body (default 4194304)\n"
	       "  --intercept-budget SIZE  memory for the bodies of paused flows, all together\n"
	       "                         (default 256m; k, m, g: KiB, MiB, GiB); past it,\n"
	       "                         matches are not paused (the flow says so)\n"
	       "  --ssl-insecure, --anticache, --body-limit, --intercept-budget: also on the\n"
	       "  UI's Options page, live (kept in the store); given here, they replace the kept\n"
	       "  value\n"
	       "  --version              print the version and exit\n"
	       "  --help                 print this text and exit\n";
}

int options_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	struct url_authority a;
	const char *why;
	/* a listen address: a port is required, and 0 asks for any free one */
	if (url_split_authority(s, strlen(s), 0, URL_PORT_ZERO, &a, &why) != 0)
		return -1;
	size_t hl = strlen(a.host);
	if (hl >= hostlen)
		return -1;
	memcpy(host, a.host, hl + 1);
	*port = a.port;
	return 0;
}

static const char mode_expected[] =
    "expected mitm or forward (or regular, socks5, transparent, reverse:http[s]://HOST[:PORT], "
    "upstream:http://HOST:PORT), optionally followed by @PORT or @HOST:PORT";

/* A listen address after '@': "PORT" (host from --listen) or "HOST:PORT". */
static int parse_mode_addr(const char *a, struct options_mode *m)
{
	m->has_addr = 1;
	if (strchr(a, ':'))
		return options_split_hostport(a, m->host, sizeof m->host, &m->port);
	size_t n = strlen(a);
	if (n == 0 || n > 5 || strspn(a, "0123456789") != n || atoi(a) > 65535)
		return -1;
	m->host[0] = 0;
	m->port = atoi(a);
	return 0;
}

/* "reverse:" or "upstream:" (mode says which) was cut off: the server, http or https (only
 * http for an upstream proxy, with its port), without a path. */
static int parse_target(const char *target, enum proxy_mode mode, struct options_mode *m,
			char *err, size_t errlen)
{
	struct url u;
	const char *why, *name = mode == PROXY_UPSTREAM ? "upstream" : "reverse";
	if (url_parse(target, strlen(target), 0, &u, &why) != 0) {
		snprintf(err, errlen, "--mode %s: '%s': %s", name, target, why);
		return -1;
	}
	const char *bad = u.scheme != URL_HTTP && u.scheme != URL_HTTPS ? "not http or https"
			  : u.had_userinfo ? "credentials in the URL (use --upstream-auth)"
			  : strcmp(u.path, "/") != 0 ? "a path is not supported"
						     : NULL;
	if (!bad && mode == PROXY_UPSTREAM && u.scheme != URL_HTTP)
		bad = "only an http:// proxy is supported";
	if (!bad && mode == PROXY_UPSTREAM && !strchr(target + 7, ':'))
		bad = "the proxy's port is required";
	if (!bad && strlen(u.authority.host) >= sizeof m->target_host)
		bad = "host name too long";
	if (bad) {
		snprintf(err, errlen, "--mode %s: '%s': %s", name, target, bad);
		url_clear(&u);
		return -1;
	}
	m->mode = mode;
	snprintf(m->target_host, sizeof m->target_host, "%s", u.authority.host);
	m->target_port = u.authority.port;
	m->target_tls = u.tls;
	url_clear(&u);
	return 0;
}

int options_parse_mode(const char *arg, struct options_mode *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->spec = arg;
	m->port = -1;
	const char *at = strrchr(arg, '@');
	size_t namelen = at ? (size_t)(at - arg) : strlen(arg);
	if (namelen >= sizeof m->name) {
		snprintf(err, errlen, "--mode: too long");
		return -1;
	}
	memcpy(m->name, arg, namelen);
	m->name[namelen] = 0;
	if (at && parse_mode_addr(at + 1, m) != 0) {
		snprintf(err, errlen, "--mode: bad listen address '%s' in '%s'", at + 1, arg);
		return -1;
	}
	if (strcmp(m->name, "mitm") == 0 || strcmp(m->name, "regular") == 0)
		m->mode = PROXY_MITM;
	else if (strcmp(m->name, "forward") == 0)
		m->mode = PROXY_FORWARD;
	else if (strcmp(m->name, "socks5") == 0)
		m->mode = PROXY_SOCKS5;
	else if (strcmp(m->name, "transparent") == 0)
		m->mode = PROXY_TRANSPARENT;
	else if (strncmp(m->name, "reverse:", 8) == 0)
		return parse_target(m->name + 8, PROXY_REVERSE, m, err, errlen);
	else if (strncmp(m->name, "upstream:", 9) == 0)
		return parse_target(m->name + 9, PROXY_UPSTREAM, m, err, errlen);
	else {
		snprintf(err, errlen, "--mode: %s, got '%s'", mode_expected, arg);
		return -1;
	}
	return 0;
}

/* Two listeners on one fixed address would share it silently (SO_REUSEPORT): refused. */
static int check_modes(const struct options *o, char *err, size_t errlen)
{
	for (size_t i = 0; i < o->num_modes; i++)
		for (size_t j = 0; j < i; j++) {
			const struct options_mode *a = &o->modes[i], *b = &o->modes[j];
			int pa = a->port >= 0 ? a->port : o->listen_port;
			int pb = b->port >= 0 ? b->port : o->listen_port;
			const char *ha = a->host[0] ? a->host : o->listen_host;
			const char *hb = b->host[0] ? b->host : o->listen_host;
			if (pa != 0 && pa == pb && strcmp(ha, hb) == 0) {
				snprintf(err, errlen, "--mode: '%s' and '%s' both listen on %s:%d",
					 b->spec, a->spec, ha, pa);
				return -1;
			}
		}
	return 0;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = (size_t)v;
	return 0;
}

/* A size in bytes, or with a k, m or g suffix (KiB, MiB, GiB), as mitmproxy's size options. */
static int parse_bytes(const char *s, size_t *out)
{
	static const char units[] = "kmg";
	size_t n = strlen(s), shift = 0;
	char num[32];
	const char *u = n ? strchr(units, s[n - 1] | 0x20) : NULL;
	if (u) {
		shift = 10 * (size_t)(u - units + 1);
		n--;
	}
	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n);
	num[n] = 0;
	size_t v;
	if (parse_size(num, &v) != 0 || v > (SIZE_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

static int add_host(const char **list, size_t *num, const char *re, char *err, size_t errlen)
{
	if (*num == OPTIONS_MAX_HOSTS) {
		snprintf(err, errlen, "too many host patterns (at most %d)", OPTIONS_MAX_HOSTS);
		return -1;
	}
	list[(*num)++] = re;
	return 0;
}

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof *o);
	strcpy(o->listen_host, "127.0.0.1");
	o->listen_port = 8080;
	strcpy(o->web_host, "127.0.0.1");
	o->web_port = 8081;
	o->mode = PROXY_MITM;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	o->threads = cores > 0 ? (int)cores : 1;
	o->body_limit = LIVEOPTS_BODY_LIMIT;
	o->intercept_budget = LIVEOPTS_INTERCEPT_BUDGET;
}

/* --mode: one more listener; the first one's mode is the default's. */
static int add_mode(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (o->num_modes == OPTIONS_MAX_MODES) {
		snprintf(err, errlen, "--mode: at most %d listeners", OPTIONS_MAX_MODES);
		return -1;
	}
	if (options_parse_mode(arg, &o->modes[o->num_modes], err, errlen) != 0)
		return -1;
	if (o->num_modes++ == 0)
		o->mode = o->modes[0].mode;
	return 0;
}

/* --proxyauth / --upstream-auth USER:PASS (kept as given; no CR or LF, which would end up in
 * a header). */
static int set_credentials(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || strpbrk(arg, "\r\n")) {
		snprintf(err, errlen, "--%s: expected USER:PASS",
			 c == OPT_PROXYAUTH ? "proxyauth" : "upstream-auth");
		return -1;
	}
	*(c == OPT_PROXYAUTH ? &o->proxyauth : &o->upstream_auth) = arg;
	return 0;
}

static int parse_one(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_LISTEN:
		if (options_split_hostport(arg, o->listen_host, sizeof o->listen_host,
					   &o->listen_port) == 0)
			return 0;
		snprintf(err, errlen, "--listen: expected HOST:PORT, got '%s'", arg);
		return -1;
	case OPT_WEB:
		if (options_split_hostport(arg, o->web_host, sizeof o->web_host, &o->web_port) == 0)
			return 0;
		snprintf(err, errlen, "--web: expected HOST:PORT, got '%s'", arg);
		return -1;
	case OPT_CONFDIR:
		flow_set_str(&o->confdir, arg);
		return 0;
	case OPT_DB:
		flow_set_str(&o->db, arg);
		return 0;
	case OPT_MODE:
		return add_mode(o, arg, err, errlen);
	case OPT_IGNORE:
		return add_host(o->ignore_hosts, &o->num_ignore_hosts, arg, err, errlen);
	case OPT_ALLOW:
		return add_host(o->allow_hosts, &o->num_allow_hosts, arg, err, errlen);
	case OPT_INSECURE:
		o->ssl_insecure = 1;
		return 0;
	case OPT_KEEP_HOST:
		o->keep_host_header = 1;
		return 0;
	case OPT_ANTICACHE:
		o->anticache = 1;
		return 0;
	case OPT_TOKEN:
		if (!arg[0]) {
			snprintf(err, errlen, "--web-token: must not be empty");
			return -1;
		}
		o->web_token = arg;
		return 0;
	case OPT_TOKEN_ROTATE:
		o->web_token_rotate = 1;
		return 0;
	case OPT_STATIC:
		o->static_dir = arg;
		return 0;
	case OPT_THREADS: {
		size_t n;
		if (parse_size(arg, &n) == 0 && n >= 1 && n <= 256) {
			o->threads = (int)n;
			return 0;
		}
		snprintf(err, errlen, "--threads: expected a number from 1 to 256, got '%s'", arg);
		return -1;
	}
	case OPT_BODY_LIMIT:
		if (parse_size(arg, &o->body_limit) == 0 && o->body_limit <= LIVEOPTS_SIZE_MAX) {
			o->body_limit_given = 1;
			return 0;
		}
		snprintf(err, errlen, "--body-limit: expected a number of bytes, got '%s'", arg);
		return -1;
	case OPT_INTERCEPT_BUDGET:
		if (parse_bytes(arg, &o->intercept_budget) == 0 && o->intercept_budget > 0 &&
		    o->intercept_budget <= LIVEOPTS_SIZE_MAX) {
			o->intercept_budget_given = 1;
			return 0;
		}
		snprintf(err, errlen, "--intercept-budget: expected a size (bytes, or with k, m or "
			 "g), got '%s'", arg);
		return -1;
	case OPT_PROXYAUTH:
	case OPT_UPSTREAM_AUTH:
		return set_credentials(o, c, arg, err, errlen);
	case OPT_HELP:
		o->help = 1;
		return 0;
	case OPT_VERSION:
		o->version = 1;
		return 0;
	}
	snprintf(err, errlen, "unknown option (try --help)");
	return -1;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	set_defaults(o);
	const char *budget = getenv("FLOWSCOPE_INTERCEPT_BUDGET"); /* the command line wins */
	if (budget && budget[0] && parse_one(o, OPT_INTERCEPT_BUDGET, budget, err, errlen) != 0) {
		snprintf(err, errlen, "FLOWSCOPE_INTERCEPT_BUDGET: expected a size (bytes, or with k, "
			 "m or g), got '%s'", budget);
		return -1;
	}
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			snprintf(err, errlen, c == ':' ? "option '%s' needs a value"
						       : "unknown option '%s' (try --help)",
				 bad);
			return -1;
		}
		if (parse_one(o, c, optarg, err, errlen) != 0)
			return -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (try --help)", argv[optind]);
		return -1;
	}
	if (o->num_modes == 0)
		options_parse_mode("mitm", &o->modes[o->num_modes++], err, errlen);
	if (check_modes(o, err, errlen) != 0)
		return -1;
	if (!o->confdir) {
		const char *home = getenv("HOME");
		o->confdir = xasprintf("%s/.flowscope", home && home[0] ? home : ".");
	}
	if (!o->db)
		o->db = xasprintf("%s/flows.db", o->confdir);
	return 0;
}

void options_clear(struct options *o)
{
	free(o->confdir);
	free(o->db);
	memset(o, 0, sizeof *o);
}
