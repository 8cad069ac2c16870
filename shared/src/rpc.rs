//! How a service's gRPC adapters are wired: one function per RPC, taking a [`Call`] (the
//! service's API, the authorized caller, the message) and giving an [`Answer`]; the [`rpcs!`]
//! table says which scopes each RPC takes and implements the proto services' traits with it.

use crate::auth::Caller;

/// One call of an RPC, as its adapter gets it: the service's `api`, the authorized `caller`,
/// the `request` message.
pub struct Call<'a, A, M> {
    pub api: &'a A,
    pub caller: Caller,
    pub request: M,
}

/// What an RPC's adapter answers.
pub type Answer<T> = Result<T, tonic::Status>;

/// Implements each proto service's trait for `$api` from the table of its RPCs: an RPC takes
/// the caller if the token holds one of its scopes (`$api::caller`), and hands the message to
/// the function of its name in the service's module.
#[macro_export]
macro_rules! rpcs {
    ($api:ty; $(impl $service:ident in $module:ident {
        $(type $assoc:ident = $assoc_ty:ty;)*
        $(fn $rpc:ident($req:ty) -> $resp:ty, $scopes:expr;)*
    })*) => {$(
        #[tonic::async_trait]
        impl $service for $api {
            $(type $assoc = $assoc_ty;)*
            $(
                async fn $rpc(
                    &self,
                    request: tonic::Request<$req>,
                ) -> Result<tonic::Response<$resp>, tonic::Status> {
                    let caller = self.caller(&request, $scopes)?;
                    let call = $crate::rpc::Call { api: self, caller, request: request.into_inner() };
                    $module::$rpc(call).await.map(tonic::Response::new)
                }
            )*
        }
    )*};
}
