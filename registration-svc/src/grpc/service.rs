//! `RegistrationService`: each handler authorizes the caller and hands the message to its
//! `inner_*` method.

use regserial::registration::v1 as pb;
use regserial::registration::v1::registration_service_server::RegistrationService;
use tonic::{Request, Response, Status};

use super::{Api, READ_SCOPES, REVIEW_SCOPES, WRITE_SCOPES};

#[tonic::async_trait]
impl RegistrationService for Api {
    async fn create_registration(
        &self,
        request: Request<pb::CreateRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_create_registration(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn batch_create_registrations(
        &self,
        request: Request<pb::BatchCreateRegistrationsRequest>,
    ) -> Result<Response<pb::BatchCreateRegistrationsResponse>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_batch_create_registrations(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn get_registration(
        &self,
        request: Request<pb::GetRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_get_registration(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn lookup_registration(
        &self,
        request: Request<pb::LookupRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_lookup_registration(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn list_registrations(
        &self,
        request: Request<pb::ListRegistrationsRequest>,
    ) -> Result<Response<pb::ListRegistrationsResponse>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_list_registrations(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn update_registration(
        &self,
        request: Request<pb::UpdateRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_update_registration(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn approve_registration(
        &self,
        request: Request<pb::ApproveRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, REVIEW_SCOPES)?;
        self.inner_approve_registration(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn deny_registration(
        &self,
        request: Request<pb::DenyRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, REVIEW_SCOPES)?;
        self.inner_deny_registration(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn cancel_registration(
        &self,
        request: Request<pb::CancelRegistrationRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_cancel_registration(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn swap_serial(
        &self,
        request: Request<pb::SwapSerialRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_swap_serial(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn reset_serial(
        &self,
        request: Request<pb::ResetSerialRequest>,
    ) -> Result<Response<pb::Registration>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_reset_serial(&caller, request.into_inner()).await.map(Response::new)
    }
}
