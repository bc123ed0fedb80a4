/*
 * SAL annotations with and without arguments, and a type name used but never
 * declared (libdxg's D3DKMT_DISPLAYPORT_OPERATION_HEADER does this): the
 * record that points to it still has a layout.
 */
#ifndef _SAL_UNDECLARED_H_
#define _SAL_UNDECLARED_H_

typedef struct _SAL_ANNOTATED
{
    _Field_range_(0, 16) UINT                  Count;
    _Field_size_(Count)  UINT*                 pValues;
    _Field_size_bytes_   (Count) VOID*         pBytes;
    UNDECLARED_HEADER*                         pHeader;
} SAL_ANNOTATED;

typedef _Check_return_ NTSTATUS (APIENTRY *PFN_SAL_OPERATION)(_Inout_ UNDECLARED_HEADER*);

EXTERN_C _Check_return_ _IRQL_requires_max_(PASSIVE_LEVEL)
NTSTATUS APIENTRY SalOperation(_In_ const SAL_ANNOTATED*, _In_reads_bytes_opt_(Size) VOID* pData, UINT Size);

#endif // _SAL_UNDECLARED_H_
