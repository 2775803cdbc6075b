//! `libternion`: the native C API of `include/ternion.h`, over the Linux backend.

static PARTY: ternion_capi::Global<linux::Party> = ternion_capi::Global::new();
ternion_capi::export_native!(linux::Party, PARTY);
