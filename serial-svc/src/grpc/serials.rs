//! `SerialService`: each handler authorizes the caller and hands the message to its `inner_*`
//! method (in `batch`, `serial_reads` and `serial_writes`).

use regserial::serial::v1 as pb;
use regserial::serial::v1::serial_service_server::SerialService;
use tonic::{Request, Response, Status, Streaming};

use super::imports::ImportJobStream;
use super::{Api, CLAIM_SCOPES, IMPORT_READ_SCOPES, READ_SCOPES, WRITE_SCOPES};

#[tonic::async_trait]
impl SerialService for Api {
    async fn batch_create_serials(
        &self,
        request: Request<pb::BatchCreateSerialsRequest>,
    ) -> Result<Response<pb::BatchCreateSerialsResponse>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_batch_create_serials(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn get_serial(
        &self,
        request: Request<pb::GetSerialRequest>,
    ) -> Result<Response<pb::Serial>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_get_serial(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn list_serials(
        &self,
        request: Request<pb::ListSerialsRequest>,
    ) -> Result<Response<pb::ListSerialsResponse>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_list_serials(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn validate_serial(
        &self,
        request: Request<pb::ValidateSerialRequest>,
    ) -> Result<Response<pb::ValidateSerialResponse>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_validate_serial(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn claim_serial(
        &self,
        request: Request<pb::ClaimSerialRequest>,
    ) -> Result<Response<pb::Serial>, Status> {
        let caller = self.caller(&request, CLAIM_SCOPES)?;
        self.inner_claim_serial(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn release_serial(
        &self,
        request: Request<pb::ReleaseSerialRequest>,
    ) -> Result<Response<pb::Serial>, Status> {
        let caller = self.caller(&request, CLAIM_SCOPES)?;
        self.inner_release_serial(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn allocate_serial(
        &self,
        request: Request<pb::AllocateSerialRequest>,
    ) -> Result<Response<pb::Serial>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_allocate_serial(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn revoke_serial(
        &self,
        request: Request<pb::RevokeSerialRequest>,
    ) -> Result<Response<pb::Serial>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_revoke_serial(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn list_serial_events(
        &self,
        request: Request<pb::ListSerialEventsRequest>,
    ) -> Result<Response<pb::ListSerialEventsResponse>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_list_serial_events(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn import_serials(
        &self,
        request: Request<Streaming<pb::ImportSerialsRequest>>,
    ) -> Result<Response<pb::ImportJob>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_import_serials(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn get_import_job(
        &self,
        request: Request<pb::GetImportJobRequest>,
    ) -> Result<Response<pb::ImportJob>, Status> {
        let caller = self.caller(&request, IMPORT_READ_SCOPES)?;
        self.inner_get_import_job(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn list_import_jobs(
        &self,
        request: Request<pb::ListImportJobsRequest>,
    ) -> Result<Response<pb::ListImportJobsResponse>, Status> {
        let caller = self.caller(&request, IMPORT_READ_SCOPES)?;
        self.inner_list_import_jobs(&caller, request.into_inner()).await.map(Response::new)
    }

    type WatchImportJobStream = ImportJobStream;

    async fn watch_import_job(
        &self,
        request: Request<pb::WatchImportJobRequest>,
    ) -> Result<Response<ImportJobStream>, Status> {
        let caller = self.caller(&request, IMPORT_READ_SCOPES)?;
        self.inner_watch_import_job(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn cancel_import_job(
        &self,
        request: Request<pb::CancelImportJobRequest>,
    ) -> Result<Response<pb::ImportJob>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_cancel_import_job(&caller, request.into_inner()).await.map(Response::new)
    }
}
