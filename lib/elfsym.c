#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfsym.h"

#define LOADS_MAX 16

struct elfsym_sym {
	uint64_t value, size;
	uint32_t name; /* offset in names */
};

struct elfsym_object {
	char *path;
	const char *base;
	char build_id[41];
	struct {
		uint64_t offset, vaddr, filesz;
	} loads[LOADS_MAX];
	size_t nloads;
	struct elfsym_sym *syms; /* functions by value */
	size_t nsyms;
	char *names;
	bool arm; /* Thumb functions have bit 0 set */
};

/* The file as ELF32 or ELF64, read through one set of accessors. */
struct elf_view {
	const unsigned char *p;
	size_t size;
	bool is64;
};

static bool
inside(const struct elf_view *v, uint64_t off, uint64_t len)
{
	return off <= v->size && len <= v->size - off;
}

#define FIELD(v, T, base, f)                                                   \
	((v)->is64 ? ((const Elf64_##T *)(const void *)(base))->f              \
	           : ((const Elf32_##T *)(const void *)(base))->f)

static void
read_build_id(struct elfsym_object *o, const struct elf_view *v, uint64_t off,
              uint64_t len)
{
	uint64_t at = off;

	while (at + 12 <= off + len && inside(v, at, 12)) {
		const Elf32_Nhdr *n = (const void *)(v->p + at);
		uint64_t name = (n->n_namesz + 3) & ~3u;
		uint64_t desc = (n->n_descsz + 3) & ~3u;
		size_t i;

		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    inside(v, at + 12 + name, n->n_descsz)) {
			for (i = 0; i < n->n_descsz && i < 20; i++)
				snprintf(o->build_id + 2 * i, 3, "%02x",
				         v->p[at + 12 + name + i]);
			return;
		}
		at += 12 + name + desc;
	}
}

static void
read_phdrs(struct elfsym_object *o, const struct elf_view *v)
{
	uint64_t off = FIELD(v, Ehdr, v->p, e_phoff);
	unsigned n = FIELD(v, Ehdr, v->p, e_phnum);
	unsigned sz = FIELD(v, Ehdr, v->p, e_phentsize), i;

	for (i = 0; i < n && inside(v, off + (uint64_t)i * sz, sz); i++) {
		const unsigned char *ph = v->p + off + (uint64_t)i * sz;
		uint32_t type = FIELD(v, Phdr, ph, p_type);

		if (type == PT_LOAD && o->nloads < LOADS_MAX) {
			o->loads[o->nloads].offset =
			    FIELD(v, Phdr, ph, p_offset);
			o->loads[o->nloads].vaddr = FIELD(v, Phdr, ph, p_vaddr);
			o->loads[o->nloads].filesz =
			    FIELD(v, Phdr, ph, p_filesz);
			o->nloads++;
		} else if (type == PT_NOTE && !o->build_id[0]) {
			read_build_id(o, v, FIELD(v, Phdr, ph, p_offset),
			              FIELD(v, Phdr, ph, p_filesz));
		}
	}
}

static int
by_value(const void *a, const void *b)
{
	const struct elfsym_sym *x = a, *y = b;

	return x->value < y->value ? -1 : x->value > y->value;
}

/* The functions of one symbol table section and its string table. */
static int
read_symtab(struct elfsym_object *o, const struct elf_view *v,
            const unsigned char *sh, const unsigned char *strsh)
{
	uint64_t off = FIELD(v, Shdr, sh, sh_offset);
	uint64_t size = FIELD(v, Shdr, sh, sh_size);
	uint64_t ent = v->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	uint64_t soff = FIELD(v, Shdr, strsh, sh_offset);
	uint64_t ssize = FIELD(v, Shdr, strsh, sh_size), i, n;

	if (!inside(v, off, size) || !inside(v, soff, ssize) || ssize == 0 ||
	    ssize > UINT32_MAX)
		return -1;
	n = size / ent;
	o->syms = calloc(n ? n : 1, sizeof(*o->syms));
	o->names = malloc(ssize + 1);
	if (!o->syms || !o->names)
		return -1;
	memcpy(o->names, v->p + soff, ssize);
	o->names[ssize] = '\0';
	for (i = 0; i < n; i++) {
		const unsigned char *s = v->p + off + i * ent;
		unsigned char info = FIELD(v, Sym, s, st_info);
		uint64_t value = FIELD(v, Sym, s, st_value);
		uint32_t name = FIELD(v, Sym, s, st_name);

		if ((ELF64_ST_TYPE(info) != STT_FUNC &&
		     ELF64_ST_TYPE(info) != STT_GNU_IFUNC) ||
		    value == 0 || name >= ssize)
			continue;
		o->syms[o->nsyms].value = o->arm ? value & ~1ULL : value;
		o->syms[o->nsyms].size = FIELD(v, Sym, s, st_size);
		o->syms[o->nsyms].name = name;
		o->nsyms++;
	}
	qsort(o->syms, o->nsyms, sizeof(*o->syms), by_value);
	return 0;
}

/* .symtab where present, else .dynsym. */
static void
read_sections(struct elfsym_object *o, const struct elf_view *v)
{
	uint64_t off = FIELD(v, Ehdr, v->p, e_shoff);
	unsigned n = FIELD(v, Ehdr, v->p, e_shnum);
	unsigned sz = FIELD(v, Ehdr, v->p, e_shentsize), i;
	const unsigned char *pick = NULL;

	if (!inside(v, off, (uint64_t)n * sz))
		return;
	for (i = 0; i < n; i++) {
		const unsigned char *sh = v->p + off + (uint64_t)i * sz;
		uint32_t type = FIELD(v, Shdr, sh, sh_type);

		if (type == SHT_SYMTAB || (type == SHT_DYNSYM && !pick))
			pick = sh;
	}
	if (pick && FIELD(v, Shdr, pick, sh_link) < n)
		read_symtab(o, v, pick,
		            v->p + off +
		                (uint64_t)FIELD(v, Shdr, pick, sh_link) * sz);
}

static bool
parse_elf(struct elfsym_object *o, const unsigned char *p, size_t size)
{
	struct elf_view v = {p, size, false};

	if (size < EI_NIDENT || memcmp(p, ELFMAG, SELFMAG) != 0)
		return false;
	v.is64 = p[EI_CLASS] == ELFCLASS64;
	if (!inside(&v, 0, v.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return false;
	o->arm = FIELD(&v, Ehdr, p, e_machine) == EM_ARM;
	read_phdrs(o, &v);
	read_sections(o, &v);
	return true;
}

struct elfsym_object *
elfsym_open(const char *path)
{
	struct elfsym_object *o = calloc(1, sizeof(*o));
	struct stat st;
	void *p = MAP_FAILED;
	int fd;

	if (!o || !(o->path = strdup(path))) {
		free(o);
		return NULL;
	}
	o->base = strrchr(o->path, '/') ? strrchr(o->path, '/') + 1 : o->path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
		         0);
	if (fd >= 0)
		close(fd);
	if (p != MAP_FAILED) {
		parse_elf(o, p, (size_t)st.st_size);
		munmap(p, (size_t)st.st_size);
	}
	return o;
}

void
elfsym_close(struct elfsym_object *o)
{
	if (!o)
		return;
	free(o->syms);
	free(o->names);
	free(o->path);
	free(o);
}

void
elfsym_describe(const struct elfsym_object *o, struct elfsym_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->object = o->base;
	f->path = o->path;
	f->build_id = o->build_id[0] ? o->build_id : NULL;
}

const char *
elfsym_function(const struct elfsym_object *o, uint64_t vaddr)
{
	size_t lo = 0, hi = o->nsyms;

	while (lo < hi) { /* the last symbol at or below vaddr */
		size_t mid = lo + (hi - lo) / 2;

		if (o->syms[mid].value <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	lo--;
	/* a sized symbol must hold vaddr; an unsized one is taken as is */
	if (o->syms[lo].size && vaddr >= o->syms[lo].value + o->syms[lo].size)
		return NULL;
	return o->names + o->syms[lo].name;
}

static struct elfsym_object *
object_of(struct elfsym_cache *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->nobjects; i++)
		if (strcmp(c->objects[i]->path, path) == 0)
			return c->objects[i];
	if (c->nobjects == ELFSYM_OBJECTS)
		return NULL;
	c->objects[c->nobjects] = elfsym_open(path);
	return c->objects[c->nobjects] ? c->objects[c->nobjects++] : NULL;
}

/* One line of maps: "lo-hi perms offset dev inode path". */
static void
add_mapping(struct elfsym_cache *c, const char *line)
{
	unsigned long long lo, hi, off;
	char perms[8];
	int at = 0;
	const char *path;

	if (c->nmaps == ELFSYM_MAPPINGS ||
	    sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off,
	           &at) < 4 ||
	    at == 0)
		return;
	path = line + at;
	if (path[0] != '/' || strstr(path, " (deleted)"))
		return;
	c->maps[c->nmaps].object = object_of(c, path);
	if (!c->maps[c->nmaps].object)
		return;
	c->maps[c->nmaps].lo = lo;
	c->maps[c->nmaps].hi = hi;
	c->maps[c->nmaps].offset = off;
	c->nmaps++;
}

int
elfsym_parse_maps(struct elfsym_cache *c, const char *text)
{
	char line[PATH_MAX + 128];

	if (!c->maps && !(c->maps = calloc(ELFSYM_MAPPINGS, sizeof(*c->maps))))
		return -1;
	c->nmaps = 0;
	while (*text) {
		size_t n = strcspn(text, "\n");

		if (n < sizeof(line)) {
			memcpy(line, text, n);
			line[n] = '\0';
			add_mapping(c, line);
		}
		text += n + (text[n] == '\n');
	}
	return 0;
}

int
elfsym_read_maps(struct elfsym_cache *c, pid_t pid)
{
	char name[64], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;

	if (!c->maps && !(c->maps = calloc(ELFSYM_MAPPINGS, sizeof(*c->maps))))
		return -1;
	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	if (!(fp = fopen(name, "re")))
		return -1;
	c->nmaps = 0;
	c->pid = pid;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		add_mapping(c, line);
	}
	free(line);
	fclose(fp);
	return 0;
}

bool
elfsym_lookup(struct elfsym_cache *c, uint64_t addr, struct elfsym_frame *f)
{
	size_t i, k;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < c->nmaps; i++) {
		const struct elfsym_mapping *m = &c->maps[i];
		const struct elfsym_object *o = m->object;
		uint64_t foff;

		if (addr < m->lo || addr >= m->hi)
			continue;
		foff = addr - m->lo + m->offset;
		f->object = o->base;
		f->path = o->path;
		f->build_id = o->build_id[0] ? o->build_id : NULL;
		f->offset = foff;
		for (k = 0; k < o->nloads; k++)
			if (foff >= o->loads[k].offset &&
			    foff < o->loads[k].offset + o->loads[k].filesz) {
				f->offset = foff - o->loads[k].offset +
				            o->loads[k].vaddr;
				f->function = elfsym_function(o, f->offset);
				break;
			}
		return true;
	}
	return false;
}

void
elfsym_free(struct elfsym_cache *c)
{
	size_t i;

	for (i = 0; i < c->nobjects; i++)
		elfsym_close(c->objects[i]);
	free(c->maps);
	memset(c, 0, sizeof(*c));
}
