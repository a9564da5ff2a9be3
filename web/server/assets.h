/* SPDX-License-Identifier: MIT */
/* assets.h - the UI files under static/, embedded at build time (embed.cmake writes the table),
 * and serving them from a directory instead (--static-dir). */
#ifndef ASSETS_H
#define ASSETS_H

#include <stddef.h>

struct asset {
	const char *path;	   /* "/index.html", "/js/main.js" */
	const unsigned char *data; /* static */
	size_t len;
};

extern const struct asset assets_embedded[]; /* generated */
extern const size_t assets_num_embedded;

/* The embedded file at path, or NULL. */
const struct asset *assets_find(const char *path);
/* The MIME type for path's extension ("application/octet-stream" if unknown). */
const char *assets_mime(const char *path);
/* 1 when path is safe to look up under a directory: starts with '/', only [A-Za-z0-9._-/],
 * no empty, "." or ".." segment. */
int assets_path_ok(const char *path);
/* Reads dir + path into a malloc'd buffer (*len bytes). Returns NULL when it is missing, not a
 * regular file, larger than max or path is not assets_path_ok(). */
unsigned char *assets_read_file(const char *dir, const char *path, size_t max, size_t *len);

#endif
