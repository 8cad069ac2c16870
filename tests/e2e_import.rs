//! ImportSerials end to end, over real gRPC on SQLite and PostgreSQL: per-row outcomes with
//! their lines, chunks split anywhere, a header refused up front, malformed files stopped at
//! their line, tenancy and scopes, listing and cancelling.

mod support;

use regserial::serial::v1::*;
use shared::auth::Scope;
use shared::testing::TestDb;
use support::grpc::{Clients, expect_err};
use support::import::*;
use support::serials::create;
use support::{ORG, SerialSvc};
use tonic::Code;

shared::per_backend!(
    every_kind_of_bad_row_fails_alone_with_its_line_and_reason,
    chunks_split_anywhere_read_the_same,
    a_header_with_an_unknown_or_missing_column_is_refused_up_front,
    malformed_files_stop_the_job_at_their_line,
    jobs_are_listed_newest_first_and_hidden_from_other_orgs,
    a_cancelled_job_stops_at_a_batch_boundary_and_stays_cancelled,
);

fn errors_of(job: &ImportJob) -> Vec<(i64, String, String)> {
    job.errors.iter().map(|e| (e.line, e.serial_number.clone(), e.reason.clone())).collect()
}

async fn every_kind_of_bad_row_fails_alone_with_its_line_and_reason(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    import_catalog(&mut c).await;
    create(&mut c, &["EXISTING-1"]).await;
    // 12,000 valid rows (lines 2..=12001) fill more than one batch, so a repeat of line 5's
    // serial below meets it in the database, not in the same batch.
    let mut file = format!("{FULL_HEADER}{}", valid_rows(0, 12_000));
    let bad = [
        (",KETTLE,,,,,", "", "MISSING_SERIAL_NUMBER"),
        ("bad one,,,,,,", "bad one", "INVALID_SERIAL_NUMBER"),
        ("X-1,NOPE,,,,,", "X-1", "UNKNOWN_PRODUCT_SKU"),
        ("X-2,,no-plan,,,,", "X-2", "UNKNOWN_WARRANTY_PLAN"),
        ("X-3,,,yesterday,,,", "X-3", "INVALID_DATE"),
        ("X-4,,,2026-02-01,2026-01-01,,", "X-4", "INVALID_VALIDITY_WINDOW"),
        ("X-5,,,", "X-5", "WRONG_COLUMN_COUNT"),
        ("sn-0000003,,,,,,", "sn-0000003", "DUPLICATE_IN_FILE"),
        ("existing-1,,,,,,", "existing-1", "ALREADY_EXISTS"),
        // A quoted field over two lines: the next row's line counts both.
        ("X-6,,,,,,\"two\nlines\"", "X-6", "INVALID_CUSTOMER_TAGS"),
    ];
    let mut expected = Vec::new();
    let mut line = 12_002;
    for (row, serial, reason) in bad {
        file.push_str(row);
        file.push('\n');
        expected.push((line, serial.to_owned(), reason.to_owned()));
        line += 1 + row.matches('\n').count() as i64;
    }
    file.push_str("X-7,,plan-1y,2026-01-01,,2026-06-01T12:00:00+02:00,\"vip, eu\"\nx-7,,,,,,\n\nX-8,,,,,,\n");
    expected.push((line + 1, "x-7".to_owned(), "DUPLICATE_IN_FILE".to_owned()));
    let job = import(&mut c, "mixed-1", file.as_bytes(), 4096).await;
    assert_eq!(job.state(), ImportJobState::Succeeded, "{job:?}");
    assert_eq!((job.rows_read, job.rows_created, job.rows_failed), (12_013, 12_002, 11), "{job:?}");
    assert_eq!(errors_of(&job), expected);
    assert_eq!(job.committed_line, line + 3);
    assert!(job.errors.iter().all(|e| !e.message.is_empty()), "each error says what is wrong");
    let x7 =
        c.serials.get_serial(GetSerialRequest { serial_number: "x-7".into() }).await.unwrap().into_inner();
    assert_eq!((x7.serial_number.as_str(), x7.warranty_plan_id.as_str()), ("X-7", "plan-1y"));
    assert_eq!(x7.customer_tags, ["vip", "eu"]);
    assert_eq!(x7.valid_from.unwrap().seconds, 1_767_225_600);
    assert_eq!(x7.register_until.unwrap().seconds, 1_780_308_000);
    let first = c.serials.get_serial(GetSerialRequest { serial_number: "SN-0000000".into() }).await.unwrap();
    assert_eq!(first.into_inner().warranty_plan_id, IMPORT_PLAN, "the product's plan by default");
    assert_eq!(all_numbers(&mut c).await.len(), 1 + 12_002);
    svc.stop().await;
}

async fn chunks_split_anywhere_read_the_same(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let file = "customerTags,serialNumber\n\"café, ü\",A-1\n\"say \"\"hi\"\"\",A-2\r\n\"€\n2\",A-3\nx,a-1\n";
    let data = file.as_bytes();
    let mut outcomes = Vec::new();
    for cut in 0..=data.len() {
        let mut c =
            Clients::new(svc.channel().await, svc.token(&format!("split-{cut}"), &[Scope::SerialsWrite]));
        let messages = messages("split", data, data.len());
        let mut chunks: Vec<ImportSerialsRequest> = messages.into_iter().take(1).collect();
        for part in [&data[..cut], &data[cut..]] {
            chunks.push(ImportSerialsRequest { import_id: String::new(), csv_chunk: part.to_vec() });
        }
        c.serials.import_serials(tokio_stream::iter(chunks)).await.expect("upload");
        let job = finished(&mut c, "split").await;
        outcomes.push((job.state(), job.rows_read, job.rows_created, errors_of(&job)));
    }
    let mut c = Clients::new(svc.channel().await, svc.token("split-bytes", &[Scope::SerialsWrite]));
    let job = import(&mut c, "split", data, 1).await;
    outcomes.push((job.state(), job.rows_read, job.rows_created, errors_of(&job)));
    let expected = (
        ImportJobState::Succeeded,
        4,
        2,
        vec![
            (4, "A-3".to_owned(), "INVALID_CUSTOMER_TAGS".to_owned()),
            (6, "a-1".to_owned(), "DUPLICATE_IN_FILE".to_owned()),
        ],
    );
    for (cut, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome, &expected, "split at byte {cut}");
    }
    let mut c = Clients::new(svc.channel().await, svc.token("split-3", &[Scope::SerialsRead]));
    let a1 =
        c.serials.get_serial(GetSerialRequest { serial_number: "A-1".into() }).await.unwrap().into_inner();
    assert_eq!(a1.customer_tags, ["café", "ü"]);
    svc.stop().await;
}

async fn a_header_with_an_unknown_or_missing_column_is_refused_up_front(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    for (id, file, names) in [
        ("h-1", "serialNumber,colour\nA-1,red\n", "\"colour\""),
        ("h-2", "productId,validFrom\nKETTLE,2026-01-01\n", "serialNumber"),
        ("h-3", "", "header"),
    ] {
        let failure =
            expect_err(c.serials.import_serials(tokio_stream::iter(messages(id, file.as_bytes(), 5))).await);
        assert_eq!((failure.code, failure.reason.as_str()), (Code::InvalidArgument, "INVALID_FIELD"), "{id}");
        let named = failure.fields.iter().any(|f| f == "header" || f == "csv_chunk");
        assert!(named, "{id}: {failure:?}");
        let status =
            c.serials.import_serials(tokio_stream::iter(messages(id, file.as_bytes(), 5))).await.unwrap_err();
        assert!(status.message().contains(names), "{id}: {}", status.message());
        assert_eq!(get_job(&mut c, id).await.unwrap_err().code(), Code::NotFound, "no job for {id}");
    }
    let no_id =
        vec![ImportSerialsRequest { import_id: String::new(), csv_chunk: b"serialNumber\nA\n".to_vec() }];
    let failure = expect_err(c.serials.import_serials(tokio_stream::iter(no_id)).await);
    assert_eq!(
        (failure.code, failure.fields.as_slice()),
        (Code::InvalidArgument, ["import_id".to_owned()].as_slice())
    );
    svc.stop().await;
}

async fn malformed_files_stop_the_job_at_their_line(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    let cases: [(&str, Vec<u8>, i64, &str); 4] = [
        ("q-1", b"serialNumber\nA-1\nA-2\nA\"3\nA-4\n".to_vec(), 4, "bad quoting"),
        // A quoted field never closed: the row it starts is at fault.
        ("q-2", b"serialNumber,customerTags\nB-1,\"open\nB-2,x\n".to_vec(), 2, "bad quoting"),
        ("u-1", b"serialNumber\nC-1\nC-2\xff\nC-3\n".to_vec(), 3, "invalid utf-8"),
        (
            "l-1",
            [b"serialNumber\nD-1\nD-".as_slice(), &vec![b'9'; 10 << 20], b"\nD-3\n"].concat(),
            3,
            "longer than",
        ),
    ];
    for (id, file, line, what) in cases {
        let job = import(&mut c, id, &file, 64 * 1024).await;
        assert_eq!(job.state(), ImportJobState::Failed, "{id}: {job:?}");
        assert_eq!(job.failure_line, line, "{id}: {job:?}");
        assert!(
            job.failure_reason.contains(what) && job.failure_reason.contains(&format!("line {line}")),
            "{id}: {}",
            job.failure_reason
        );
        assert_eq!(job.rows_read, line - 2, "{id}: the rows before the bad line are read");
        assert_eq!(job.rows_created, line - 2, "{id}: and created");
        assert_eq!(job.committed_line, line - 1, "{id}");
    }
    svc.stop().await;
}

async fn jobs_are_listed_newest_first_and_hidden_from_other_orgs(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    for id in ["j-1", "j-2", "j-3"] {
        import(&mut c, id, format!("serialNumber\n{id}\n").as_bytes(), 100).await;
    }
    let page = c
        .serials
        .list_import_jobs(ListImportJobsRequest { page_size: 2, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.import_jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["j-3", "j-2"]);
    let request = ListImportJobsRequest { page_size: 2, page_token: page.next_page_token };
    let rest = c.serials.list_import_jobs(request).await.unwrap().into_inner();
    assert_eq!(rest.import_jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["j-1"]);
    assert!(rest.next_page_token.is_empty());

    let mut other = svc.clients("globex").await;
    let failure = expect_err(other.serials.get_import_job(GetImportJobRequest { id: "j-1".into() }).await);
    assert_eq!((failure.code, failure.reason.as_str()), (Code::NotFound, "IMPORT_JOB_NOT_FOUND"));
    assert_eq!(
        expect_err(other.serials.watch_import_job(WatchImportJobRequest { id: "j-1".into() }).await).code,
        Code::NotFound
    );
    assert_eq!(
        expect_err(other.serials.cancel_import_job(CancelImportJobRequest { id: "j-1".into() }).await).code,
        Code::NotFound
    );
    let listed = other.serials.list_import_jobs(ListImportJobsRequest::default()).await.unwrap().into_inner();
    assert!(listed.import_jobs.is_empty());

    let mut reader = Clients::new(svc.channel().await, svc.token(ORG, &[Scope::SerialsRead]));
    assert_eq!(get_job(&mut reader, "j-1").await.unwrap().rows_created, 1);
    let refused =
        reader.serials.import_serials(tokio_stream::iter(messages("j-4", b"serialNumber\nZ\n", 100))).await;
    assert_eq!(expect_err(refused).code, Code::PermissionDenied);
    let refused = reader.serials.cancel_import_job(CancelImportJobRequest { id: "j-1".into() }).await;
    assert_eq!(expect_err(refused).code, Code::PermissionDenied);
    let mut registrar = Clients::new(svc.channel().await, svc.token(ORG, &[Scope::RegistrationsRead]));
    assert_eq!(get_job(&mut registrar, "j-1").await.unwrap_err().code(), Code::PermissionDenied);
    svc.stop().await;
}

async fn a_cancelled_job_stops_at_a_batch_boundary_and_stays_cancelled(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    let file = format!("serialNumber\n{}", (0..40_000).map(|i| format!("C-{i}\n")).collect::<String>());
    let (tx, call) = open_upload(&c, "cancel-1");
    let mut chunks = messages("", file.as_bytes(), 64 * 1024).into_iter().skip(1);
    // Half the file, then wait for a committed batch.
    for message in chunks.by_ref().take(3) {
        tx.send(message).await.unwrap();
    }
    job_until(&mut c, "cancel-1", "a committed batch", |j| j.rows_read > 0).await;
    let cancelled = c
        .serials
        .cancel_import_job(CancelImportJobRequest { id: "cancel-1".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state(), ImportJobState::Cancelled);
    for message in chunks {
        if tx.send(message).await.is_err() {
            break;
        }
    }
    drop(tx);
    let answer = call.await.unwrap();
    if let Ok(job) = &answer {
        assert_eq!(job.state(), ImportJobState::Cancelled);
    }
    let job = get_job(&mut c, "cancel-1").await.unwrap();
    assert_eq!(job.state(), ImportJobState::Cancelled);
    assert!(job.rows_read < 40_000 && job.rows_read % 10_000 == 0, "{job:?}");
    assert_eq!(all_numbers(&mut c).await.len() as i64, job.rows_created, "exactly the committed rows");
    let again = upload(&mut c, "cancel-1", file.as_bytes(), 64 * 1024).await.unwrap();
    assert_eq!(
        (again.state(), again.rows_read),
        (ImportJobState::Cancelled, job.rows_read),
        "a cancelled job is not resumed"
    );
    svc.stop().await;
}
