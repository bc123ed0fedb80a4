/*
 * __ptr32 and __ptr64 (POINTER_32, POINTER_64) pointers are 4 and 8 bytes on
 * both ABIs; the pointers they point through stay native.
 */
typedef void * __ptr32 PVOID32;
typedef void * POINTER_64 PVOID64;
typedef struct _POINTER_WIDTHS
{
    UCHAR               c;
    void * __ptr32      p;
    UCHAR               d;
    void * __ptr64      q;
    UINT * __ptr32 *    r;              // a native pointer to a 32-bit one
    PVOID32             s;
    PVOID64             t[2];
    const void * POINTER_32 const u;
    struct _POINTER_WIDTHS * POINTER_64 next;
    PVOID POINTER_32    v;
} POINTER_WIDTHS;
