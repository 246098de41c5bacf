/*
 * elfsym: names for code addresses of another process, from its
 * /proc/PID/maps and the ELF symbol tables of the mapped files (.symtab
 * where present, else .dynsym), read by us, not in the process.  A struct
 * elfsym_cache owns its mappings, objects and tables (elfsym_free); a file
 * that cannot be read leaves its addresses without a function, never an
 * error.  elfsym_read_maps returns 0, or -1 with errno.
 */
#ifndef GXKIT_ELFSYM_H
#define GXKIT_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ELFSYM_OBJECTS  256  /* files followed; later ones stay unnamed */
#define ELFSYM_MAPPINGS 4096 /* mappings of files, per process */

struct elfsym_object;

struct elfsym_mapping {
	uint64_t lo, hi, offset;
	struct elfsym_object *object;
};

struct elfsym_cache {
	struct elfsym_object *objects[ELFSYM_OBJECTS];
	size_t nobjects;
	struct elfsym_mapping *maps;
	size_t nmaps;
	pid_t pid; /* whose maps are read */
};

/* One address, named: the object's basename and path, the offset in it
 * that addr2line takes (its virtual address), the function or NULL. */
struct elfsym_frame {
	const char *object, *path, *function, *build_id;
	uint64_t offset;
};

int elfsym_read_maps(struct elfsym_cache *c, pid_t pid);
/* ... or from maps lines as the process itself read them. */
int elfsym_parse_maps(struct elfsym_cache *c, const char *text);
/* False when no mapped file holds addr. */
bool elfsym_lookup(struct elfsym_cache *c, uint64_t addr,
                   struct elfsym_frame *f);
void elfsym_free(struct elfsym_cache *c);

/* The symbols of one ELF file (for tests): the function at vaddr. */
struct elfsym_object *elfsym_open(const char *path);
const char *elfsym_function(const struct elfsym_object *o, uint64_t vaddr);
void elfsym_close(struct elfsym_object *o);
/* Its object, path and build-id into f (no function, offset 0). */
void elfsym_describe(const struct elfsym_object *o, struct elfsym_frame *f);

#endif
