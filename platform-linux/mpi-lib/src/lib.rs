//! `libternion_mpi`: the MPI subset of `include/mpi.h` over the Linux
//! backend, plus the native API of `include/ternion.h` on the same party.

static PARTY: ternion_capi::Global<linux::Party> = ternion_capi::Global::new();
ternion_capi::export_mpi!(linux::Party, PARTY);
ternion_capi::export_native!(linux::Party, PARTY);
