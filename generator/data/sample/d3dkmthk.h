/******************************Module*Header**********************************\
*
* Module Name: d3dkmthk.h (d3dkmt-codegen sample)
*
* Content: a small header in the style of the Windows display kernel-mode
*          thunk interface, written for d3dkmt-codegen's default run. It
*          declares D3DKMT_DESTROYALLOCATION and a few neighbours; the real
*          header comes with the Windows SDK/WDK.
*
\*****************************************************************************/
#ifndef _D3DKMTHK_H_
#define _D3DKMTHK_H_

#include <winapifamily.h>

#pragma region Desktop Family
#if WINAPI_FAMILY_PARTITION(WINAPI_PARTITION_DESKTOP)

#define DXGKDDI_INTERFACE_VERSION_WIN8       0x300E
#define DXGKDDI_INTERFACE_VERSION_WDDM2_0    0x5023

#if !defined(DXGKDDI_INTERFACE_VERSION)
#define DXGKDDI_INTERFACE_VERSION           DXGKDDI_INTERFACE_VERSION_WDDM2_0
#endif

// Kernel-mode handles are 32-bit values on every architecture.
typedef UINT D3DKMT_HANDLE;

#define D3DKMT_MAX_PRESENT_HISTORY_RECTS     16
#define STATUS_GRAPHICS_ALLOCATION_BUSY      ((NTSTATUS)0xC01E0102L)

typedef enum _D3DKMT_ALLOCATIONRESIDENCYSTATUS
{
    D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY    = 1,
    D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINSHAREDMEMORY = 2,
    D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT            = 3,
} D3DKMT_ALLOCATIONRESIDENCYSTATUS;

typedef struct _D3DKMT_DESTROYALLOCATIONFLAGS
{
    union
    {
        struct
        {
            UINT    AssumeNotInUse          : 1;    // 0x00000001
            UINT    SynchronousDestroy      : 1;    // 0x00000002
            UINT    Reserved                : 29;   // 0x7FFFFFFC
            UINT    SystemUseOnly           : 1;    // 0x80000000
        };
        UINT        Value;
    };
} D3DKMT_DESTROYALLOCATIONFLAGS;

typedef struct _D3DKMT_DESTROYALLOCATION
{
    D3DKMT_HANDLE           hDevice;            // in: device that owns the allocations
    D3DKMT_HANDLE           hResource;          // in: resource whose allocations go, or zero
    _Field_size_(AllocationCount) CONST D3DKMT_HANDLE* phAllocationList;   // in: allocations to destroy when hResource is zero
    UINT                    AllocationCount;    // in: number of handles in phAllocationList
} D3DKMT_DESTROYALLOCATION;

typedef struct _D3DKMT_DESTROYALLOCATION2
{
    D3DKMT_HANDLE                   hDevice;            // in: device that owns the allocations
    D3DKMT_HANDLE                   hResource;          // in: resource whose allocations go, or zero
    _Field_size_(AllocationCount) CONST D3DKMT_HANDLE* phAllocationList;   // in: allocations to destroy when hResource is zero
    UINT                            AllocationCount;    // in: number of handles in phAllocationList
    D3DKMT_DESTROYALLOCATIONFLAGS   Flags;              // in: how to destroy them
} D3DKMT_DESTROYALLOCATION2;

typedef struct _D3DKMT_CHECKALLOCATIONRESIDENCY
{
    D3DKMT_HANDLE                       hDevice;            // in: device that owns the allocation
    D3DKMT_HANDLE                       hAllocation;        // in: allocation to look at
    D3DKMT_ALLOCATIONRESIDENCYSTATUS    ResidencyStatus;    // out: where the allocation is now
    ULONGLONG                           LastUseFence;       // out: fence of its last use
} D3DKMT_CHECKALLOCATIONRESIDENCY;

typedef _Check_return_ NTSTATUS (APIENTRY *PFND3DKMT_DESTROYALLOCATION)(_In_ CONST D3DKMT_DESTROYALLOCATION*);

EXTERN_C _Check_return_ NTSTATUS APIENTRY D3DKMTDestroyAllocation(_In_ CONST D3DKMT_DESTROYALLOCATION* pData);
EXTERN_C _Check_return_ NTSTATUS APIENTRY D3DKMTDestroyAllocation2(_In_ CONST D3DKMT_DESTROYALLOCATION2* pData);

#endif /* WINAPI_FAMILY_PARTITION(WINAPI_PARTITION_DESKTOP) */
#pragma endregion

#endif /* _D3DKMTHK_H_ */
