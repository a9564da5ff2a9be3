/* SPDX-License-Identifier: MIT */
/* assets.c - finding UI files, embedded or on disk; see assets.h. */
#include "assets.h"

#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct asset *assets_find(const char *path)
{
	for (size_t i = 0; i < assets_num_embedded; i++)
		if (strcmp(assets_embedded[i].path, path) == 0)
			return &assets_embedded[i];
	return NULL;
}

const char *assets_mime(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".json", "application/json"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".woff2", "font/woff2"},
	    {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].mime;
	return "application/octet-stream";
}

int assets_path_ok(const char *path)
{
	if (path[0] != '/')
		return 0;
	const char *seg = path + 1;
	for (const char *p = path + 1;; p++) {
		char c = *p;
		if (c == '/' || c == '\0') {
			size_t len = (size_t)(p - seg);
			if (len == 0 || (len == 1 && seg[0] == '.') ||
			    (len == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (c == '\0')
				return 1;
			seg = p + 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
}

unsigned char *assets_read_file(const char *dir, const char *path, size_t max, size_t *len)
{
	if (!assets_path_ok(path))
		return NULL;
	char *full = xasprintf("%s%s", dir, path);
	/* O_NOFOLLOW: a symlink as the last component is refused, not followed out of dir */
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(full);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return NULL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	unsigned char *buf = xmalloc(n + 1);
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != n) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
