"""Ordinary use of the libdxg bindings: mypy --strict and pyright --strict must find nothing.

tests/test_stub.py type-checks this file against the generated stub, then runs
``portable()`` (and ``contract()``, where the module has it) against the
generated module, so that what the stub promises is also what ctypes does.
The gdi32.dll calls are only type-checked.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, Array, byref, c_uint8, c_void_p, pointer, sizeof
from typing import TYPE_CHECKING, Any

import d3dkmthk as k
from typing_extensions import assert_type

if TYPE_CHECKING:
    # typeshed's name for ctypes' pointer types; pyright --strict wants private names
    # imported once, so ordinary code names it like this.
    from ctypes import _Pointer as Pointer  # pyright: ignore[reportPrivateUsage]


def portable() -> None:
    """Records, members, pointers, arrays, aliases and callbacks, without calling gdi32."""
    # Records by keyword (any subset) and by position (the leading members).
    info = k.D3DKMT_ADAPTERINFO(hAdapter=7, NumOfSources=2)
    luid = k.LUID(5, -1)
    opened = k.D3DKMT_OPENADAPTERFROMLUID(luid)
    opened = k.D3DKMT_OPENADAPTERFROMLUID(AdapterLuid=luid, hAdapter=0)
    empty = k.D3DKMT_CREATEALLOCATION()

    # Members read as Python values and take them.
    handle: int = info.hAdapter
    info.hAdapter = handle + 1
    info.hAdapter = k.D3DKMT_HANDLE(8)  # ctypes copies an instance of the member's type
    assert info.hAdapter == 8
    info.bPrecisePresentRegionsPreferred = True  # a BOOL takes a bool (an int)
    opened.AdapterLuid.LowPart = 6
    opened.AdapterLuid = info.AdapterLuid  # nested records by value
    assert_type(opened.AdapterLuid, k.LUID)
    assert_type(luid.HighPart, int)

    # On the class, a member is its ctypes field.
    offset: int = k.D3DKMT_ADAPTERINFO.hAdapter.offset
    size: int = k.D3DKMT_ADAPTERINFO.AdapterLuid.size
    assert (offset, size) == (0, 8)
    assert sizeof(k.D3DKMT_ADAPTERINFO) >= sizeof(k.LUID) + 4

    # Typedefs are their ctypes types: constructible, multipliable, usable as types.
    h: k.D3DKMT_HANDLE = k.D3DKMT_HANDLE(3)
    assert h.value == 3
    handles = (k.D3DKMT_HANDLE * 3)(1, 2, 3)
    assert_type(handles, Array[k.D3DKMT_HANDLE])
    as_pointer = ctypes.cast(handles, POINTER(k.D3DKMT_HANDLE))
    assert as_pointer[2] == 3
    # The C tag names the same class (pyright --strict objects to the leading _).
    tagged: k._D3DKMT_ADAPTERINFO = info  # pyright: ignore[reportPrivateUsage]
    assert tagged.hAdapter == info.hAdapter
    size_t: type[k.D3DKMT_SIZE_T] = k.D3DKMT_SIZE_T
    assert sizeof(size_t) == sizeof(c_void_p)

    # Pointer members take a pointer, an array of their type or None, and read as pointers.
    destroy = k.D3DKMT_DESTROYALLOCATION(hDevice=1, phAllocationList=handles, AllocationCount=3)
    destroy.phAllocationList = as_pointer
    destroy.phAllocationList = None
    assert not destroy.phAllocationList  # a NULL pointer is false
    destroy.phAllocationList = pointer(k.D3DKMT_HANDLE(9))
    assert_type(destroy.phAllocationList, "Pointer[k.D3DKMT_HANDLE]")
    assert destroy.phAllocationList.contents.value == 9
    adapters = (k.D3DKMT_ADAPTERINFO * 4)()
    enum_args = k.D3DKMT_ENUMADAPTERS2(NumAdapters=4, pAdapters=adapters)
    first: k.D3DKMT_ADAPTERINFO = enum_args.pAdapters[0]
    assert first.hAdapter == 0
    caps = k.D3DKMT_MIRACAST_DISPLAY_DEVICE_CAPS()
    caps_pointer: k.PD3DKMT_MIRACAST_DISPLAY_DEVICE_CAPS = pointer(caps)
    assert caps_pointer.contents is not None

    # void* members are addresses.
    buffer = (c_uint8 * 16)()
    query = k.D3DKMT_QUERYADAPTERINFO(pPrivateDriverData=ctypes.addressof(buffer))
    query.PrivateDriverDataSize = sizeof(buffer)
    address: int | None = query.pPrivateDriverData
    assert address == ctypes.addressof(buffer)
    query.pPrivateDriverData = None
    query.pPrivateDriverData = c_void_p(address)

    # Enum members take the enum or any int; enumerators are module constants too.
    query.Type = k.KMTQUERYADAPTERINFOTYPE.KMTQAITYPE_UMDRIVERPRIVATE
    query.Type = k.KMTQAITYPE_UMDRIVERPRIVATE
    query.Type = 1
    assert query.Type == k.KMTQAITYPE_UMDRIVERNAME

    # Bit-fields read and take ints; anonymous members' members are the record's.
    flags = k.D3DKMT_CREATEALLOCATIONFLAGS(CreateResource=1, Zeroed=1)
    flags.CreateShared = 1
    shared: int = flags.CreateShared
    assert (flags.CreateResource, shared, flags.Zeroed) == (1, 1, 1)
    empty.Flags = flags
    empty.pAllocationInfo2 = pointer(k.D3DDDI_ALLOCATIONINFO2())
    create = k.D3DKMT_CREATEALLOCATION(hDevice=1, NumAllocations=1, Flags=flags)
    assert create.Flags.Zeroed == 1

    # Arrays: char arrays are bytes, other arrays ctypes arrays.
    debug = k.OUTPUTDUPL_CONTEXT_DEBUG_INFO(ProcessName=b"dwm.exe")
    name: bytes = debug.ProcessName
    assert name == b"dwm.exe"
    listing = k.D3DKMT_ENUMADAPTERS()
    assert len(listing.Adapters) == 16
    listing.Adapters[0] = info
    assert listing.Adapters[0].hAdapter == info.hAdapter

    # Callbacks are ctypes function types: built from a Python function, stored in records.
    def on_trim(notification: Pointer[k.D3DKMT_TRIMNOTIFICATION]) -> None:
        notification.contents.NumBytesToTrim = 0

    callback = k.PFND3DKMT_TRIMNOTIFICATIONCALLBACK(on_trim)
    register = k.D3DKMT_REGISTERTRIMNOTIFICATION(hDevice=1, Callback=callback)
    register.Context = None
    assert_type(register.Callback, k.PFND3DKMT_TRIMNOTIFICATIONCALLBACK)
    notification = k.D3DKMT_TRIMNOTIFICATION(NumBytesToTrim=1)
    callback(byref(notification))
    assert notification.NumBytesToTrim == 0

    # GUIDs, constants, the module's own helpers.
    guid: k.GUID = k.DXGKMDT_OPM_GET_CONNECTOR_TYPE
    assert guid.Data1 != 0
    assert k.D3DKMT_MAX_PRESENT_HISTORY_RECTS == 16
    copy = k.D3DKMT_ADAPTERINFO.from_buffer_copy(bytes(info))
    assert copy.hAdapter == info.hAdapter
    try:
        k.D3DKMT_DESTROYALLOCATION(hDevice=0).validate()
    except k.ValidationError as error:
        for record, member, message in error.errors:
            assert isinstance(record + member + message, str)
    problems: list[str] = k.check_layout()
    assert isinstance(problems, list)
    assert k.D3DKMTQueryAdapterInfo.argtypes[0] is POINTER(k.D3DKMT_QUERYADAPTERINFO)
    assert k.D3DKMTCreateAllocation.restype is not None


def contract() -> None:
    """The records' run-time contract: enum members read back as their IntEnum, to_dict()."""
    query = k.D3DKMT_QUERYADAPTERINFO(Type=k.KMTQAITYPE_UMDRIVERNAME)
    kind: k.KMTQUERYADAPTERINFOTYPE = query.Type
    assert kind.name == "KMTQAITYPE_UMDRIVERNAME"
    as_dict: dict[str, Any] = query.to_dict()
    assert "Type" in as_dict


def call_gdi32() -> int:
    """The functions as their C prototypes: pointers, byref(), arrays, None, plain ints."""
    enum_args = k.D3DKMT_ENUMADAPTERS2()
    status = k.D3DKMTEnumAdapters2(byref(enum_args))
    adapters = (k.D3DKMT_ADAPTERINFO * enum_args.NumAdapters)()
    enum_args.pAdapters = adapters
    status |= k.D3DKMTEnumAdapters2(pointer(enum_args))
    query = k.D3DKMT_QUERYADAPTERINFO(hAdapter=adapters[0].hAdapter)
    status |= k.D3DKMTQueryAdapterInfo(byref(query))
    status |= k.D3DKMTQueryAdapterInfo(None)
    handles = (k.D3DKMT_HANDLE * 2)()
    shared = c_void_p()
    status |= k.D3DKMTShareObjects(2, handles, None, 0x1F0003, byref(shared))
    status |= k.D3DKMTSetProcessSchedulingPriorityClass(None, k.D3DKMT_SCHEDULINGPRIORITYCLASS_HIGH)
    status |= k.D3DKMTGetPresentQueueEvent(k.D3DKMT_HANDLE(1), byref(shared))
    k.D3DKMTCloseDxCoreDevice()
    closing = k.D3DKMT_CLOSEADAPTER(hAdapter=query.hAdapter)
    return status | k.D3DKMTCloseAdapter(byref(closing))


if __name__ == "__main__":
    portable()
