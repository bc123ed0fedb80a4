/*
 * d3dkmt-codegen's Windows prelude: the base types and macros that the display
 * kernel-thunk headers take from windows.h, ntdef.h, wdm.h and sal.h.
 *
 * Written in plain C so that pycparser can read it, and so that clang with an
 * MSVC target reads the same definitions (the layout tests do that). Sizes are
 * those of the MSVC ABIs: long is 32-bit, wchar_t 16-bit, pointers 8 or 4 bytes.
 *
 * The preprocessor stage defines _WIN32, and _WIN64/_M_X64 or _M_IX86 per ABI.
 * For the wsl ABI (Linux x86-64 under WSL 2) it defines no _WIN32: the base types
 * are then those of DirectX-Headers' include/wsl/winadapter.h (fixed-width LONG,
 * ULONG; a 4-byte wchar_t; HWND and HDC ints; BOOLEAN a char).
 * SAL annotations (_In_, _Field_size_(n), ...) are deliberately NOT defined here:
 * the preprocess stage records them beside the member they annotate and then
 * blanks them out, so they survive into the IR.
 */
#ifndef D3DKMT_CODEGEN_PRELUDE
#define D3DKMT_CODEGEN_PRELUDE

#if defined(_M_X64) || defined(_M_AMD64)
#define _AMD64_ 1
#define _WIN64 1
#elif defined(_M_IX86)
#define _X86_ 1
#endif

/* Target versions: the newest, unless the command line says otherwise. */
#define NTDDI_WIN2K       0x05000000
#define NTDDI_WINXP       0x05010000
#define NTDDI_WS03        0x05020000
#define NTDDI_VISTA       0x06000000
#define NTDDI_LONGHORN    NTDDI_VISTA
#define NTDDI_WIN7        0x06010000
#define NTDDI_WIN8        0x06020000
#define NTDDI_WINBLUE     0x06030000
#define NTDDI_WINTHRESHOLD 0x0A000000
#define NTDDI_WIN10       0x0A000000
#define NTDDI_WIN10_TH2   0x0A000001
#define NTDDI_WIN10_RS1   0x0A000002
#define NTDDI_WIN10_RS2   0x0A000003
#define NTDDI_WIN10_RS3   0x0A000004
#define NTDDI_WIN10_RS4   0x0A000005
#define NTDDI_WIN10_RS5   0x0A000006
#define NTDDI_WIN10_19H1  0x0A000007
#define NTDDI_WIN10_VB    0x0A000008
#define NTDDI_WIN10_MN    0x0A000009
#define NTDDI_WIN10_FE    0x0A00000A
#define NTDDI_WIN10_CO    0x0A00000B
#define NTDDI_WIN10_NI    0x0A00000C
#define NTDDI_WIN10_CU    0x0A00000D
#define NTDDI_WIN11_ZN    0x0A00000E
#define NTDDI_WIN11_GA    0x0A00000F
#define NTDDI_WIN11_GE    0x0A000010
#ifndef NTDDI_VERSION
#define NTDDI_VERSION     NTDDI_WIN11_GE
#endif
#define _WIN32_WINNT_WIN10 0x0A00
#ifndef _WIN32_WINNT
#define _WIN32_WINNT      0x0A00
#endif
#ifndef WINVER
#define WINVER            0x0A00
#endif

/* winapifamily.h: every partition is available. */
#define WINAPI_FAMILY_PARTITION(p) 1
#define WINAPI_PARTITION_DESKTOP 1
#define WINAPI_PARTITION_APP 1
#define WINAPI_PARTITION_SYSTEM 1
#define WINAPI_PARTITION_GAMES 1

/* Calling conventions, storage and linkage words: no bearing on layout. */
#define APIENTRY
#define WINAPI
#define NTAPI
#define CALLBACK
#define STDMETHODCALLTYPE
#define __stdcall
#define __cdecl
#define _stdcall
#define _cdecl
#define FAR
#define NEAR
#define far
#define near
#define EXTERN_C extern
#define EXTERN_C_START
#define EXTERN_C_END
#define DECLSPEC_IMPORT
#define DECLSPEC_NOINLINE
#define DECLSPEC_DEPRECATED
#define DECLSPEC_ALIGN(n) __declspec(align(n))
#define DECLSPEC_NORETURN
#define DECLSPEC_SELECTANY
#define DECLSPEC_NOTHROW
#define DECLSPEC_DEPRECATED_DDK
#ifndef __clang__
/* MSVC's sized integer keywords (clang knows them with -fms-extensions). */
#define __int8 char
#define __int16 short
#define __int32 int
#define __int64 long long
/* __declspec(align(n)) becomes a marker the preprocess stage reads (on a record,
 * a typedef or a member: MSVC's rules differ from alignas'); the others have no
 * bearing on layout. (clang, reading this prelude for the tests, knows __declspec,
 * __ptr32 and __ptr64 itself.) */
#define __declspec(spec) __d3dkmt_declspec_##spec
#define __d3dkmt_declspec_align(n) __d3dkmt_align(n)
#define __d3dkmt_declspec_deprecated(...)
#define __d3dkmt_declspec_dllimport
#define __d3dkmt_declspec_dllexport
#define __d3dkmt_declspec_noinline
#define __d3dkmt_declspec_noreturn
#define __d3dkmt_declspec_nothrow
#define __d3dkmt_declspec_selectany
#define __d3dkmt_declspec_novtable
#define __d3dkmt_declspec_restrict
#define __d3dkmt_declspec_noalias
#define __d3dkmt_declspec_uuid(...)
/* __ptr32 and __ptr64 stay: the preprocess stage records them beside their '*'. */
#define __sptr
#define __uptr
/* GCC's __attribute__((aligned(n))) (libdxg's D3DKMT_ALIGN64 off Windows) takes
 * the same road as __declspec(align(n)); the attributes the headers do not use
 * are not known here. */
#define __attribute__(spec) __d3dkmt_attribute spec
#define __d3dkmt_attribute(spec) __d3dkmt_attribute_##spec
#define __d3dkmt_attribute_aligned(n) __d3dkmt_align(n)
#endif
#define alignas(n) _Alignas(n)
#define __forceinline
#define FORCEINLINE
#define __inline
#define _W64
#define __unaligned
#define UNALIGNED
/* basetsd.h: pointers of a fixed width, whatever the ABI. */
#define POINTER_64 __ptr64
#define POINTER_32 __ptr32
#define POINTER_SIGNED __sptr
#define POINTER_UNSIGNED __uptr
#define IN
#define OUT
#define OPTIONAL
#define CONST const
#define VOID void
#define NULL 0
#define TRUE 1
#define FALSE 0
#define MAX_PATH 260
#define CCHDEVICENAME 32
#define FIELD_OFFSET(type, field) ((LONG)(LONG_PTR)&(((type *)0)->field))
#define UNREFERENCED_PARAMETER(P) (P)
#define ANYSIZE_ARRAY 1

/* winnt.h names for anonymous members: empty, so the members stay anonymous. */
#define DUMMYUNIONNAME
#define DUMMYUNIONNAME1
#define DUMMYUNIONNAME2
#define DUMMYUNIONNAME3
#define DUMMYUNIONNAME4
#define DUMMYUNIONNAME5
#define DUMMYSTRUCTNAME
#define DUMMYSTRUCTNAME1
#define DUMMYSTRUCTNAME2
#define DUMMYSTRUCTNAME3
#define DUMMYSTRUCTNAME4
#define DUMMYSTRUCTNAME5

/* Base types with the sizes MSVC gives them on both x86 and x64. */
typedef void *PVOID, *LPVOID, *HANDLE, **PHANDLE;
typedef const void *PCVOID, *LPCVOID;
typedef char CHAR, *PCHAR, *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR;
typedef signed char INT8, *PINT8;
typedef unsigned char UCHAR, *PUCHAR, BYTE, *PBYTE, *LPBYTE, UINT8, *PUINT8;
typedef char CCHAR;
typedef short SHORT, *PSHORT, INT16, *PINT16;
typedef unsigned short USHORT, *PUSHORT, WORD, *PWORD, UINT16, *PUINT16;
typedef int INT, *PINT, INT32, *PINT32, LONG32, *PLONG32;
typedef unsigned int UINT, *PUINT, UINT32, *PUINT32, ULONG32, *PULONG32, DWORD32, *PDWORD32;
#ifdef _WIN32
typedef unsigned char BOOLEAN, *PBOOLEAN;
typedef unsigned short WCHAR, *PWCHAR, *PWSTR, *LPWSTR, wchar_t;
typedef const unsigned short *PCWSTR, *LPCWSTR;
typedef int BOOL, *PBOOL;
typedef long LONG, *PLONG, HRESULT;
typedef unsigned long ULONG, *PULONG, DWORD, *PDWORD, *LPDWORD;
#else
/* winadapter.h: Linux's wchar_t (4 bytes), fixed-width LONG and ULONG. */
typedef char BOOLEAN, *PBOOLEAN;
typedef int wchar_t;
typedef wchar_t WCHAR, *PWCHAR, *PWSTR, *LPWSTR;
typedef const wchar_t *PCWSTR, *LPCWSTR;
typedef unsigned int BOOL, *PBOOL;
typedef int LONG, *PLONG, HRESULT;
typedef unsigned int ULONG, *PULONG, DWORD, *PDWORD, *LPDWORD;
#endif
typedef long long LONGLONG, *PLONGLONG, INT64, *PINT64, LONG64, *PLONG64;
typedef unsigned long long ULONGLONG, *PULONGLONG, UINT64, *PUINT64, ULONG64, *PULONG64,
    DWORD64, *PDWORD64, DWORDLONG;
typedef float FLOAT, *PFLOAT;
typedef double DOUBLE;
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef LONG NTSTATUS, *PNTSTATUS;

/* Pointer-sized integers: the generator maps these names to one type that is
 * 8 bytes on x64 and 4 on x86, so one IR serves both ABIs. */
#if defined(_WIN64) || !defined(_WIN32)
typedef long long INT_PTR, LONG_PTR, SSIZE_T;
typedef unsigned long long UINT_PTR, ULONG_PTR, SIZE_T, DWORD_PTR;
#else
typedef int INT_PTR;
typedef long LONG_PTR, SSIZE_T;
typedef unsigned int UINT_PTR;
typedef unsigned long ULONG_PTR, SIZE_T, DWORD_PTR;
#endif
typedef INT_PTR *PINT_PTR;
typedef UINT_PTR *PUINT_PTR;
typedef LONG_PTR *PLONG_PTR;
typedef ULONG_PTR *PULONG_PTR, KAFFINITY;
typedef SIZE_T *PSIZE_T;

/* Handles. */
#define DECLARE_HANDLE(name) typedef HANDLE name
#ifdef _WIN32
DECLARE_HANDLE(HWND);
DECLARE_HANDLE(HDC);
#else
typedef int HWND, HDC; /* winadapter.h */
#endif
DECLARE_HANDLE(HMONITOR);
DECLARE_HANDLE(HINSTANCE);
DECLARE_HANDLE(HMODULE);
DECLARE_HANDLE(HKEY);
DECLARE_HANDLE(HBITMAP);
DECLARE_HANDLE(HRGN);
DECLARE_HANDLE(HGLRC);
typedef HANDLE PEPROCESS, PETHREAD, PKEVENT, PDEVICE_OBJECT, PFILE_OBJECT, PMDL;

/* Small records of the Windows API. */
typedef struct _LUID {
    DWORD LowPart;
    LONG HighPart;
} LUID, *PLUID;

#ifdef _WIN32
typedef union _LARGE_INTEGER {
    struct {
        DWORD LowPart;
        LONG HighPart;
    };
    struct {
        DWORD LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        DWORD LowPart;
        DWORD HighPart;
    };
    struct {
        DWORD LowPart;
        DWORD HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;
#else
/* winadapter.h: only the named halves. */
typedef union _LARGE_INTEGER {
    struct {
        uint32_t LowPart;
        uint32_t HighPart;
    } u;
    int64_t QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        uint32_t LowPart;
        uint32_t HighPart;
    } u;
    uint64_t QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;
#endif

typedef LARGE_INTEGER PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

typedef struct _GUID {
    ULONG Data1;
    unsigned short Data2;
    unsigned short Data3;
    unsigned char Data4[8];
} GUID, IID, CLSID, *LPGUID, *PGUID;
typedef const GUID *LPCGUID, *REFGUID, *REFIID;

typedef struct tagRECT {
    LONG left;
    LONG top;
    LONG right;
    LONG bottom;
} RECT, *PRECT, *LPRECT;
typedef struct _RECTL {
    LONG left;
    LONG top;
    LONG right;
    LONG bottom;
} RECTL, *PRECTL;
typedef struct tagPOINT {
    LONG x;
    LONG y;
} POINT, *PPOINT, *LPPOINT;
typedef struct _POINTL {
    LONG x;
    LONG y;
} POINTL, *PPOINTL;
typedef struct tagSIZE {
    LONG cx;
    LONG cy;
} SIZE, *PSIZE, SIZEL, *PSIZEL;
#ifdef _WIN32
typedef struct tagPALETTEENTRY {
    BYTE peRed;
    BYTE peGreen;
    BYTE peBlue;
    BYTE peFlags;
} PALETTEENTRY, *PPALETTEENTRY;
#else
typedef int PALETTEENTRY, *PPALETTEENTRY; /* winadapter.h */
#endif
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;
typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;
typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;
typedef int *LPBOOL;
typedef UCHAR KIRQL, *PKIRQL;
typedef DWORD COLORREF, *LPCOLORREF;
typedef DWORD D3DCOLOR;
DECLARE_HANDLE(HCURSOR);
DECLARE_HANDLE(HICON);
DECLARE_HANDLE(HPALETTE);
typedef PVOID PSECURITY_DESCRIPTOR;
typedef DWORD ACCESS_MASK;
typedef ACCESS_MASK *PACCESS_MASK;

/* DEFINE_GUID becomes a constant the lowering stage reads back as a GUID. */
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    static const GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}

/* C_ASSERT becomes a typedef the lowering stage reads back as a check. */
#define C_ASSERT(e) typedef char __C_ASSERT__[(e) ? 1 : -1]

#define MAKEFOURCC(ch0, ch1, ch2, ch3) \
    ((DWORD)(BYTE)(ch0) | ((DWORD)(BYTE)(ch1) << 8) | \
     ((DWORD)(BYTE)(ch2) << 16) | ((DWORD)(BYTE)(ch3) << 24))

/* Device I/O control codes (winioctl.h). */
#define CTL_CODE(DeviceType, Function, Method, Access) \
    (((DeviceType) << 16) | ((Access) << 14) | ((Function) << 2) | (Method))
#define METHOD_BUFFERED 0
#define METHOD_IN_DIRECT 1
#define METHOD_OUT_DIRECT 2
#define METHOD_NEITHER 3
#define FILE_ANY_ACCESS 0
#define FILE_READ_ACCESS 0x0001
#define FILE_WRITE_ACCESS 0x0002
#define FILE_DEVICE_VIDEO 0x00000023

/* Process access rights (winnt.h). */
#define SYNCHRONIZE 0x00100000L
#define STANDARD_RIGHTS_REQUIRED 0x000F0000L
#define PROCESS_QUERY_INFORMATION 0x0400
#define PROCESS_SET_INFORMATION 0x0200
#define PROCESS_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)

/* IRQLs named in SAL annotations. */
#define PASSIVE_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2

#endif /* D3DKMT_CODEGEN_PRELUDE */
