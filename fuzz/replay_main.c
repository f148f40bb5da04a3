/* replay_main.c - run a fuzz target over files without libFuzzer.
 *
 * Usage: fuzz_X_replay PATH...  Each PATH is a file or a directory of files;
 * every file is passed once to LLVMFuzzerTestOneInput. ctest runs this over
 * the corpus so every seed and every past crash stays a regression test
 * (under ASan+UBSan in CI). Exits non-zero if no input was found. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "cannot read '%s'\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 1;
}

static long run_path(const char *path)
{
	struct stat st;
	long count = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "cannot read '%s'\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		char sub[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		long r = run_path(sub);
		if (r < 0) {
			closedir(d);
			return -1;
		}
		count += r;
	}
	closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;

	for (int i = 1; i < argc; i++) {
		long r = run_path(argv[i]);
		if (r < 0)
			return 1;
		total += r;
	}
	printf("replayed %ld input(s)\n", total);
	return total > 0 ? 0 : 1;
}
