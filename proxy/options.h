/* SPDX-License-Identifier: MIT */
/* options.h - the command line of flowscope (see README, "Command line"). */
#ifndef OPTIONS_H
#define OPTIONS_H

#include "proxy.h"

#include <stddef.h>

#define OPTIONS_MAX_HOSTS 64
#define OPTIONS_MAX_MODES 16

/* One --mode MODE[@PORT|@HOST:PORT]. */
struct options_mode {
	enum proxy_mode mode;
	const char *spec; /* borrowed from argv: the whole argument */
	char name[300];	  /* the mode part, without the address ("reverse:http://h:1") */
	int has_addr;	  /* 0: the listener takes --listen */
	char host[256];	  /* "": --listen's host */
	int port;	  /* -1: --listen's port */
	char target_host[256]; /* PROXY_REVERSE: the server; PROXY_UPSTREAM: the proxy */
	int target_port;
	int target_tls; /* PROXY_REVERSE: https */
};

struct options {
	char listen_host[256];   /* --listen HOST:PORT, default 127.0.0.1:8080 */
	int listen_port;
	char web_host[256];      /* --web HOST:PORT, default 127.0.0.1:8081 */
	int web_port;
	char *confdir;           /* owned; --confdir, default ~/.flowscope */
	char *db;                /* owned; --db, default CONFDIR/flows.db */
	enum proxy_mode mode;	 /* the first --mode's, default mitm */
	struct options_mode modes[OPTIONS_MAX_MODES]; /* --mode, repeatable; default one mitm */
	size_t num_modes;
	const char *ignore_hosts[OPTIONS_MAX_HOSTS]; /* borrowed from argv */
	size_t num_ignore_hosts;
	const char *allow_hosts[OPTIONS_MAX_HOSTS];  /* borrowed from argv */
	size_t num_allow_hosts;
	int ssl_insecure;	 /* --ssl-insecure (a live option: overrides the stored one) */
	int anticache;		 /* --anticache (likewise) */
	const char *web_token;   /* borrowed from argv; NULL: the kept one (CONFDIR/web-token) */
	int web_token_rotate;    /* --web-token-rotate: replace the kept token with a new one */
	const char *static_dir;  /* borrowed; --static-dir serves the UI from disk */
	int threads;             /* --threads, default the number of cores */
	size_t body_limit;       /* --body-limit BYTES, default 4 MiB */
	/* --intercept-budget SIZE (or FLOWSCOPE_INTERCEPT_BUDGET): bytes all held and paused
	 * flows may take together, default 256 MiB; a SIZE may end in k, m or g (KiB...) */
	size_t intercept_budget;
	/* 1: the live option was given on the command line (or the environment) and overrides
	 * the stored one; 0: the stored one, else the default, is used */
	int body_limit_given, intercept_budget_given;
	const char *proxyauth;     /* borrowed; --proxyauth USER:PASS, NULL: none */
	const char *upstream_auth; /* borrowed; --upstream-auth USER:PASS, NULL: none */
	int keep_host_header;	   /* --keep-host-header (reverse listeners) */
	int help;                /* --help was given */
	int version;             /* --version was given */
};

/* Parses argv into opts (defaults first). Returns 0, or -1 with a one-line message in err.
 * HOME is read for the default confdir. Free with options_clear(). */
int options_parse(struct options *opts, int argc, char **argv, char *err, size_t errlen);
void options_clear(struct options *opts);
/* Parses one --mode argument (mitm, regular, forward, socks5, reverse:http[s]://HOST[:PORT] or
 * upstream:http://HOST:PORT, then
 * optionally @PORT or @HOST:PORT) into m. Returns 0, or -1 with a one-line message in err. */
int options_parse_mode(const char *arg, struct options_mode *m, char *err, size_t errlen);
/* The usage text. */
const char *options_usage(void);
/* Splits "HOST:PORT" or "[V6]:PORT" (url_split_authority()'s rules, port required, 0 allowed)
 * into host (hostlen bytes, NUL-terminated) and *port; returns 0 or -1. */
int options_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
