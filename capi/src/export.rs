//! Macros that turn the generic calls into the C symbols of one platform's
//! library. A platform writes, once:
//!
//! ```ignore
//! static PARTY: ternion_capi::Global<MyBackend> = ternion_capi::Global::new();
//! ternion_capi::export_mpi!(MyBackend, PARTY);     // MPI_* symbols
//! ternion_capi::export_native!(MyBackend, PARTY);  // ternion_* symbols
//! ```

/// Exports the MPI subset of `include/mpi.h` for `$backend`, using the
/// `Global` static `$global`.
#[macro_export]
macro_rules! export_mpi {
    ($backend:ty, $global:ident) => {
        const _: () = {
            use ::core::ffi::{c_char, c_int, c_void};
            use $crate::mpi::calls as mpi;
            use $crate::mpi::types::{
                MPI_Comm, MPI_Datatype, MPI_Errhandler, MPI_Op, MPI_Request, MPI_Status,
            };

            /// `MPI_Init`: connects with the configuration `ternion run` provides.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Init(
                _argc: *mut c_int,
                _argv: *mut *mut *mut c_char,
            ) -> c_int {
                mpi::init::<$backend>(&$global)
            }
            /// `MPI_Finalize`.
            #[no_mangle]
            pub extern "C" fn MPI_Finalize() -> c_int {
                mpi::finalize::<$backend>(&$global)
            }
            /// `MPI_Initialized`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Initialized(flag: *mut c_int) -> c_int {
                mpi::initialized::<$backend>(&$global, flag)
            }
            /// `MPI_Finalized`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Finalized(flag: *mut c_int) -> c_int {
                mpi::finalized::<$backend>(&$global, flag)
            }
            /// `MPI_Comm_rank`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Comm_rank(comm: MPI_Comm, rank: *mut c_int) -> c_int {
                mpi::comm_rank::<$backend>(&$global, comm, rank)
            }
            /// `MPI_Comm_size`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Comm_size(comm: MPI_Comm, size: *mut c_int) -> c_int {
                mpi::comm_size::<$backend>(&$global, comm, size)
            }
            /// `MPI_Abort`.
            #[no_mangle]
            pub extern "C" fn MPI_Abort(comm: MPI_Comm, errorcode: c_int) -> c_int {
                mpi::abort::<$backend>(&$global, comm, errorcode)
            }
            /// `MPI_Send`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Send(
                buf: *const c_void,
                count: c_int,
                datatype: MPI_Datatype,
                dest: c_int,
                tag: c_int,
                comm: MPI_Comm,
            ) -> c_int {
                mpi::send::<$backend>(&$global, buf, count, datatype, dest, tag, comm)
            }
            /// `MPI_Recv`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Recv(
                buf: *mut c_void,
                count: c_int,
                datatype: MPI_Datatype,
                source: c_int,
                tag: c_int,
                comm: MPI_Comm,
                status: *mut MPI_Status,
            ) -> c_int {
                mpi::recv::<$backend>(&$global, buf, count, datatype, source, tag, comm, status)
            }
            /// `MPI_Sendrecv`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Sendrecv(
                sendbuf: *const c_void,
                sendcount: c_int,
                sendtype: MPI_Datatype,
                dest: c_int,
                sendtag: c_int,
                recvbuf: *mut c_void,
                recvcount: c_int,
                recvtype: MPI_Datatype,
                source: c_int,
                recvtag: c_int,
                comm: MPI_Comm,
                status: *mut MPI_Status,
            ) -> c_int {
                mpi::sendrecv::<$backend>(
                    &$global, sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount,
                    recvtype, source, recvtag, comm, status,
                )
            }
            /// `MPI_Isend`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Isend(
                buf: *const c_void,
                count: c_int,
                datatype: MPI_Datatype,
                dest: c_int,
                tag: c_int,
                comm: MPI_Comm,
                request: *mut MPI_Request,
            ) -> c_int {
                mpi::isend::<$backend>(&$global, buf, count, datatype, dest, tag, comm, request)
            }
            /// `MPI_Irecv`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Irecv(
                buf: *mut c_void,
                count: c_int,
                datatype: MPI_Datatype,
                source: c_int,
                tag: c_int,
                comm: MPI_Comm,
                request: *mut MPI_Request,
            ) -> c_int {
                mpi::irecv::<$backend>(&$global, buf, count, datatype, source, tag, comm, request)
            }
            /// `MPI_Wait`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Wait(
                request: *mut MPI_Request,
                status: *mut MPI_Status,
            ) -> c_int {
                mpi::wait::<$backend>(&$global, request, status)
            }
            /// `MPI_Waitall`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Waitall(
                count: c_int,
                requests: *mut MPI_Request,
                statuses: *mut MPI_Status,
            ) -> c_int {
                mpi::waitall::<$backend>(&$global, count, requests, statuses)
            }
            /// `MPI_Test`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Test(
                request: *mut MPI_Request,
                flag: *mut c_int,
                status: *mut MPI_Status,
            ) -> c_int {
                mpi::test::<$backend>(&$global, request, flag, status)
            }
            /// `MPI_Testall`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Testall(
                count: c_int,
                requests: *mut MPI_Request,
                flag: *mut c_int,
                statuses: *mut MPI_Status,
            ) -> c_int {
                mpi::testall::<$backend>(&$global, count, requests, flag, statuses)
            }
            /// `MPI_Get_count`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Get_count(
                status: *const MPI_Status,
                datatype: MPI_Datatype,
                count: *mut c_int,
            ) -> c_int {
                mpi::get_count(status, datatype, count)
            }
            /// `MPI_Barrier`.
            #[no_mangle]
            pub extern "C" fn MPI_Barrier(comm: MPI_Comm) -> c_int {
                mpi::barrier::<$backend>(&$global, comm)
            }
            /// `MPI_Bcast`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Bcast(
                buf: *mut c_void,
                count: c_int,
                datatype: MPI_Datatype,
                root: c_int,
                comm: MPI_Comm,
            ) -> c_int {
                mpi::bcast::<$backend>(&$global, buf, count, datatype, root, comm)
            }
            /// `MPI_Reduce`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Reduce(
                sendbuf: *const c_void,
                recvbuf: *mut c_void,
                count: c_int,
                datatype: MPI_Datatype,
                op: MPI_Op,
                root: c_int,
                comm: MPI_Comm,
            ) -> c_int {
                mpi::reduce::<$backend>(
                    &$global,
                    "MPI_Reduce",
                    sendbuf,
                    recvbuf,
                    count,
                    datatype,
                    op,
                    Some(root),
                    comm,
                )
            }
            /// `MPI_Allreduce`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Allreduce(
                sendbuf: *const c_void,
                recvbuf: *mut c_void,
                count: c_int,
                datatype: MPI_Datatype,
                op: MPI_Op,
                comm: MPI_Comm,
            ) -> c_int {
                mpi::reduce::<$backend>(
                    &$global,
                    "MPI_Allreduce",
                    sendbuf,
                    recvbuf,
                    count,
                    datatype,
                    op,
                    None,
                    comm,
                )
            }
            /// `MPI_Comm_set_errhandler`.
            #[no_mangle]
            pub extern "C" fn MPI_Comm_set_errhandler(
                comm: MPI_Comm,
                handler: MPI_Errhandler,
            ) -> c_int {
                mpi::set_errhandler::<$backend>(&$global, comm, handler)
            }
            /// `MPI_Wtime`.
            #[no_mangle]
            pub extern "C" fn MPI_Wtime() -> f64 {
                mpi::wtime::<$backend>(&$global)
            }
            /// `MPI_Error_string`.
            #[no_mangle]
            pub unsafe extern "C" fn MPI_Error_string(
                errorcode: c_int,
                string: *mut c_char,
                resultlen: *mut c_int,
            ) -> c_int {
                mpi::error_string(errorcode, string, resultlen)
            }
        };
    };
}

/// Exports the native API of `include/ternion.h` for `$backend`, using the
/// `Global` static `$global`.
#[macro_export]
macro_rules! export_native {
    ($backend:ty, $global:ident) => {
        const _: () = {
            use ::core::ffi::{c_char, c_int, c_void};
            use $crate::mpi::types::Element;
            use $crate::native::{self as api, LinkStatsC, Typed};

            /// `ternion_init`.
            #[no_mangle]
            pub extern "C" fn ternion_init() -> c_int {
                api::init::<$backend>(&$global)
            }
            /// `ternion_init_explicit`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_init_explicit(
                rank: c_int,
                peers: *const *const c_char,
                session: *const c_char,
            ) -> c_int {
                api::init_explicit::<$backend>(&$global, rank, peers, session)
            }
            /// `ternion_rank`.
            #[no_mangle]
            pub extern "C" fn ternion_rank() -> c_int {
                api::ring_rank::<$backend>(&$global, |r| r)
            }
            /// `ternion_succ`.
            #[no_mangle]
            pub extern "C" fn ternion_succ() -> c_int {
                api::ring_rank::<$backend>(&$global, $crate::Rank::succ)
            }
            /// `ternion_pred`.
            #[no_mangle]
            pub extern "C" fn ternion_pred() -> c_int {
                api::ring_rank::<$backend>(&$global, $crate::Rank::pred)
            }
            /// `ternion_send`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_send(
                peer: c_int,
                tag: c_int,
                buf: *const c_void,
                len: usize,
            ) -> c_int {
                api::send::<$backend>(&$global, peer, tag, buf, len)
            }
            /// `ternion_recv`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_recv(
                peer: c_int,
                tag: c_int,
                buf: *mut c_void,
                len: usize,
                received: *mut usize,
            ) -> c_int {
                api::recv::<$backend>(&$global, peer, tag, buf, len, received)
            }
            /// `ternion_isend`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_isend(
                peer: c_int,
                tag: c_int,
                buf: *const c_void,
                len: usize,
                req: *mut u64,
            ) -> c_int {
                api::isend::<$backend>(&$global, peer, tag, buf, len, req)
            }
            /// `ternion_irecv`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_irecv(
                peer: c_int,
                tag: c_int,
                buf: *mut c_void,
                len: usize,
                req: *mut u64,
            ) -> c_int {
                api::irecv::<$backend>(&$global, peer, tag, buf, len, req)
            }
            /// `ternion_wait`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_wait(req: *mut u64, len: *mut usize) -> c_int {
                api::wait_one::<$backend>(&$global, req, len)
            }
            /// `ternion_test`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_test(
                req: *mut u64,
                done: *mut c_int,
                len: *mut usize,
            ) -> c_int {
                api::test::<$backend>(&$global, req, done, len)
            }
            /// `ternion_barrier`.
            #[no_mangle]
            pub extern "C" fn ternion_barrier() -> c_int {
                api::barrier::<$backend>(&$global)
            }
            /// `ternion_close`.
            #[no_mangle]
            pub extern "C" fn ternion_close() -> c_int {
                api::close::<$backend>(&$global)
            }
            /// `ternion_strerror`.
            #[no_mangle]
            pub extern "C" fn ternion_strerror(code: c_int) -> *const c_char {
                api::strerror(code).as_ptr()
            }
            /// `ternion_get_link_stats`.
            #[no_mangle]
            pub unsafe extern "C" fn ternion_get_link_stats(
                peer: c_int,
                out: *mut LinkStatsC,
            ) -> c_int {
                api::link_stats::<$backend>(&$global, peer, out)
            }
            $crate::export_native_typed!(
                $backend,
                $global,
                Element::Unsigned(8),
                ternion_exchange_u64,
                ternion_open_u64,
                ternion_reveal_u64
            );
            $crate::export_native_typed!(
                $backend,
                $global,
                Element::Signed(8),
                ternion_exchange_i64,
                ternion_open_i64,
                ternion_reveal_i64
            );
            $crate::export_native_typed!(
                $backend,
                $global,
                Element::Unsigned(4),
                ternion_exchange_u32,
                ternion_open_u32,
                ternion_reveal_u32
            );
            $crate::export_native_typed!(
                $backend,
                $global,
                Element::Unsigned(1),
                ternion_exchange_u8,
                ternion_open_u8,
                ternion_reveal_u8
            );
            $crate::export_native_typed!(
                $backend,
                $global,
                Element::Bool,
                ternion_exchange_bool,
                ternion_open_bool,
                ternion_reveal_bool
            );
        };
    };
}

/// The exchange, open and reveal functions of one element type (used by
/// [`export_native`]).
#[macro_export]
#[doc(hidden)]
macro_rules! export_native_typed {
    ($backend:ty, $global:ident, $element:expr, $exchange:ident, $open:ident, $reveal:ident) => {
        /// Sends `n` values to the predecessor and receives `n` from the successor.
        #[no_mangle]
        pub unsafe extern "C" fn $exchange(
            send: *const c_void,
            recv: *mut c_void,
            n: usize,
        ) -> c_int {
            api::exchange::<$backend>(&$global, Typed { element: $element }, send, recv, n)
        }
        /// Opens shared values to party 0 (`out` is written at party 0 only).
        #[no_mangle]
        pub unsafe extern "C" fn $open(
            share: *const c_void,
            out: *mut c_void,
            n: usize,
            how: c_int,
        ) -> c_int {
            api::open::<$backend>(
                &$global,
                Typed { element: $element },
                share,
                out,
                n,
                how,
                false,
            )
        }
        /// Reveals shared values to every party.
        #[no_mangle]
        pub unsafe extern "C" fn $reveal(
            share: *const c_void,
            out: *mut c_void,
            n: usize,
            how: c_int,
        ) -> c_int {
            api::open::<$backend>(
                &$global,
                Typed { element: $element },
                share,
                out,
                n,
                how,
                true,
            )
        }
    };
}
