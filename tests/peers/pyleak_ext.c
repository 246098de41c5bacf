/*
 * pyleak_ext: a CPython extension with a leak in C, for heap-watch's test
 * (built by the test with python3-dev).  stash(n) keeps n bytes from
 * PyMem_Malloc in a list of its own that is never freed: the leak a
 * driver's C dependency has, which tracemalloc's Python view does not
 * name.  ephemeral(n) allocates and frees: churn.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static void **kept;
static size_t nkept, capkept;

static __attribute__((noinline)) void *
ext_stash_block(size_t n)
{
	void *p = PyMem_Malloc(n);

	if (p)
		memset(p, 5, n);
	return p;
}

static PyObject *
stash(PyObject *self, PyObject *args)
{
	Py_ssize_t n;
	void *p;

	(void)self;
	if (!PyArg_ParseTuple(args, "n", &n))
		return NULL;
	if (nkept == capkept) {
		size_t cap = capkept ? 2 * capkept : 1024;
		void **v = PyMem_RawRealloc(kept, cap * sizeof(*v));

		if (!v)
			return PyErr_NoMemory();
		kept = v;
		capkept = cap;
	}
	if (!(p = ext_stash_block((size_t)n)))
		return PyErr_NoMemory();
	kept[nkept++] = p;
	Py_RETURN_NONE;
}

static PyObject *
ephemeral(PyObject *self, PyObject *args)
{
	Py_ssize_t n;
	void *p;

	(void)self;
	if (!PyArg_ParseTuple(args, "n", &n))
		return NULL;
	p = PyMem_Malloc((size_t)n);
	if (p)
		memset(p, 6, (size_t)n);
	PyMem_Free(p);
	Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"stash", stash, METH_VARARGS, "keep n bytes, never freed"},
    {"ephemeral", ephemeral, METH_VARARGS, "allocate and free n bytes"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "pyleak_ext",
                                    NULL, -1, methods, NULL, NULL, NULL,
                                    NULL};

PyMODINIT_FUNC
PyInit_pyleak_ext(void)
{
	return PyModule_Create(&module);
}
