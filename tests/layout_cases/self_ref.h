/*
 * Records that refer to themselves or to records defined later, through
 * pointers; a record with only a pointer typedef or only a tag is listed under
 * its tag; an incomplete record is not listed.
 */
#ifndef _SELF_REF_H_
#define _SELF_REF_H_

typedef struct _NODE
{
    struct _NODE* Next;
    UINT          Value;
} NODE, *PNODE;

typedef struct _LATER LATER;    // the typedef comes before the definition

typedef struct _HOLDER
{
    LATER* pLater;
    PNODE  pHead;
} HOLDER;

struct _LATER
{
    HOLDER Holder;
    UINT   Extra;
};

typedef struct _OPAQUE_OBJECT* POPAQUE_OBJECT;  // never defined

typedef struct _POINTER_ONLY
{
    POPAQUE_OBJECT pObject;
} *PPOINTER_ONLY;

struct TAG_ONLY
{
    USHORT Length;
    struct TAG_ONLY* Parent;
};

#endif // _SELF_REF_H_
