/* SPDX-License-Identifier: MIT */
/* options.c - command-line parsing with getopt_long; every value checked here so that the rest
 * of the program can trust struct options. */
#include "options.h"

#include "url.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
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
	OPT_TOKEN,
	OPT_STATIC,
	OPT_THREADS,
	OPT_BODY_LIMIT,
	OPT_HELP,
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
	{"web-token", required_argument, NULL, OPT_TOKEN},
	{"static-dir", required_argument, NULL, OPT_STATIC},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"body-limit", required_argument, NULL, OPT_BODY_LIMIT},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

const char *options_usage(void)
{
	return "usage: flowscope [options]\n"
	       "  --listen HOST:PORT     proxy address (default 127.0.0.1:8080)\n"
	       "  --web HOST:PORT        UI/API address (default 127.0.0.1:8081)\n"
	       "  --confdir DIR          CA and settings (default ~/.flowscope)\n"
	       "  --db FILE              flow store (default CONFDIR/flows.db)\n"
	       "  --mode mitm|forward    decrypt HTTPS, or only relay it (default mitm)\n"
	       "  --ignore-hosts REGEX   pass these host:port through undecrypted (repeatable)\n"
	       "  --allow-hosts REGEX    decrypt only these host:port (repeatable)\n"
	       "  --ssl-insecure         do not verify upstream certificates\n"
	       "  --web-token TOKEN      API token (default: random, printed at start)\n"
	       "  --static-dir DIR       serve the UI from DIR instead of the embedded copy\n"
	       "  --threads N            proxy workers (default: number of cores)\n"
	       "  --body-limit BYTES     stored bytes per body (default 4194304)\n";
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
	o->body_limit = 4u << 20;
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
		if (strcmp(arg, "mitm") == 0)
			o->mode = PROXY_MITM;
		else if (strcmp(arg, "forward") == 0)
			o->mode = PROXY_FORWARD;
		else {
			snprintf(err, errlen, "--mode: expected mitm or forward, got '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_IGNORE:
		return add_host(o->ignore_hosts, &o->num_ignore_hosts, arg, err, errlen);
	case OPT_ALLOW:
		return add_host(o->allow_hosts, &o->num_allow_hosts, arg, err, errlen);
	case OPT_INSECURE:
		o->ssl_insecure = 1;
		return 0;
	case OPT_TOKEN:
		if (!arg[0]) {
			snprintf(err, errlen, "--web-token: must not be empty");
			return -1;
		}
		o->web_token = arg;
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
		if (parse_size(arg, &o->body_limit) == 0)
			return 0;
		snprintf(err, errlen, "--body-limit: expected a number of bytes, got '%s'", arg);
		return -1;
	case OPT_HELP:
		o->help = 1;
		return 0;
	}
	snprintf(err, errlen, "unknown option (try --help)");
	return -1;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	set_defaults(o);
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
