//! Crash safety of `mcp-train serve`: `kill -9` in the middle of uploads, deploys and training,
//! then a restart on the same data directory must list only complete models.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::common;

use common::server::{
    assert_listed_models_are_complete, dist, export, sha256, train, version_of, Server,
};
use common::Work;

/// Files under `data/uploads` that the process `pid` staged (`<pid>-<random>.part`).
fn staged_by(data: &std::path::Path, pid: u32) -> Vec<String> {
    std::fs::read_dir(data.join("uploads"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&format!("{pid}-")))
                .collect()
        })
        .unwrap_or_default()
}

/// Uploads `body` slowly on a raw connection: 64 KiB at a time with a pause, so the server is
/// mid-upload for a while. Errors (the server dies) end it quietly.
fn slow_upload(addr: SocketAddr, body: &[u8], pause: Duration) {
    let Ok(mut c) = TcpStream::connect(addr) else {
        return;
    };
    let head = format!(
        "POST /api/models HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if c.write_all(head.as_bytes()).is_err() {
        return;
    }
    for chunk in body.chunks(64 * 1024) {
        if c.write_all(chunk).is_err() {
            return;
        }
        thread::sleep(pause);
    }
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = std::io::Read::read(&mut c, &mut [0u8; 256]);
}

/// After a restart: every listed model is complete, and is one of the uploads byte for byte;
/// at most one is deployed. Returns the listed versions.
fn assert_consistent(s: &Server, known: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let listed = assert_listed_models_are_complete(s);
    for version in &listed {
        let bytes = known
            .get(version)
            .unwrap_or_else(|| panic!("{version} is listed but was never uploaded"));
        let record = s.get(&format!("/api/models/{version}")).json();
        assert_eq!(record["sha256"], sha256(bytes), "{version}");
    }
    let deployed = s.get("/api/models?status=deployed").json();
    let n = deployed["models"].as_array().map(Vec::len).unwrap_or(0);
    assert!(n <= 1, "{n} models deployed: {deployed}");
    let d = s.get("/api/models/deployed");
    if n == 1 {
        assert_eq!(d.status, 200);
        assert_eq!(d.json()["version"], deployed["models"][0]["version"]);
    } else {
        d.assert_error(404, "not_found");
    }
    listed
}

#[test]
fn kill_9_during_uploads_and_deploys_leaves_only_complete_models() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let mut epoch = 1_720_000_000;
    let mut next_model = |seed: u64| {
        epoch += 60;
        let bytes = train(&w, &e, seed, epoch);
        (version_of(&bytes), bytes)
    };
    let base: Vec<_> = (0..4).map(&mut next_model).collect();
    let mut known: BTreeMap<String, Vec<u8>> = base.iter().cloned().collect();
    let data = w.path("data");
    let web = dist(&w);

    let s = Server::start(&data, &web, &[]);
    for (version, bytes) in &base {
        assert_eq!(s.post("/api/models", bytes).status, 201, "{version}");
    }
    drop(s);

    // Three rounds, each killing the server at another moment.
    for (round, kill_after) in [60u64, 200, 450].into_iter().enumerate() {
        let batch: Vec<_> = (0..10)
            .map(|i| next_model(100 + 10 * round as u64 + i))
            .collect();
        known.extend(batch.iter().cloned());
        let mut s = Server::start(&data, &web, &[]);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        // Half the batch slowly, half as fast as the server takes them.
        for (i, (_, bytes)) in batch.iter().enumerate() {
            let (addr, bytes) = (s.addr, bytes.clone());
            if i % 2 == 0 {
                threads.push(thread::spawn(move || {
                    slow_upload(addr, &bytes, Duration::from_millis(15 + 5 * i as u64))
                }));
            } else {
                let url = s.url("/api/models");
                threads.push(thread::spawn(move || {
                    let _ = ureq::post(&url).send_bytes(&bytes);
                }));
            }
        }
        // And deploys flipping between the complete models.
        {
            let (stop, base) = (Arc::clone(&stop), base.clone());
            let url = s.url("/api/models");
            threads.push(thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let v = &base[i % base.len()].0;
                    if ureq::post(&format!("{url}/{v}/deploy")).call().is_err() {
                        break;
                    }
                    i += 1;
                }
            }));
        }
        thread::sleep(Duration::from_millis(kill_after));
        assert!(s.running(), "the server died by itself:\n{}", s.stderr());
        let killed = s.pid();
        s.kill();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            let _ = t.join();
        }

        let s = Server::start(&data, &web, &[]);
        let h = s.get("/api/health");
        assert_eq!(h.status, 200, "{}", h.text());
        assert_eq!(h.json()["storage"]["status"], "ok", "{}", h.text());
        let listed = assert_consistent(&s, &known);
        let survived = batch.iter().filter(|(v, _)| listed.contains(v)).count();
        eprintln!(
            "round {round}: killed after {kill_after} ms; {survived} of {} uploads complete",
            batch.len()
        );
        assert!(
            staged_by(&data, killed).is_empty(),
            "round {round}: the killed server's staged uploads remain: {:?}",
            staged_by(&data, killed)
        );
        for (version, _) in &base {
            assert!(
                listed.contains(version),
                "round {round}: {version} was lost"
            );
        }
        // Whatever was cut off can be uploaded again.
        for (version, bytes) in &batch {
            let r = s.post("/api/models", bytes);
            let expected = if listed.contains(version) { 200 } else { 201 };
            assert_eq!(
                r.status,
                expected,
                "round {round}: re-uploading {version}: {}",
                r.text()
            );
        }
        let all = assert_consistent(&s, &known);
        assert_eq!(all.len(), known.len(), "round {round}");
    }
}

#[test]
fn kill_9_during_training_restarts_with_the_registry_intact() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, 1_730_000_000);
    let version = version_of(&model);
    let big = std::fs::read(export(&w, "big.json", 40_000, 3)).expect("big export");
    let small = std::fs::read(&e).expect("small export");
    let data = w.path("data");
    let web = dist(&w);

    let mut s = Server::start(&data, &web, &[]);
    assert_eq!(s.post("/api/models", &model).status, 201);
    let id = s.start_job(
        "/api/training/jobs?detector=lof&created_at_micros=1740000000000000",
        &big,
    );
    s.wait_for_job(&id, &["running"], Duration::from_secs(30));
    // A second upload of an export, cut off while it streams to disk.
    let addr = s.addr;
    let big2 = big.clone();
    let uploader = thread::spawn(move || {
        let Ok(mut c) = TcpStream::connect(addr) else {
            return;
        };
        let head = format!(
            "POST /api/training/jobs HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
            big2.len()
        );
        let _ = c.write_all(head.as_bytes());
        for chunk in big2.chunks(256 * 1024) {
            if c.write_all(chunk).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    thread::sleep(Duration::from_millis(300));
    assert!(s.running(), "the server died by itself:\n{}", s.stderr());
    let killed = s.pid();
    s.kill();
    let _ = uploader.join();

    let s = Server::start(&data, &web, &[]);
    assert!(
        staged_by(&data, killed).is_empty(),
        "the killed server's staged exports remain: {:?}",
        staged_by(&data, killed)
    );
    let known: BTreeMap<String, Vec<u8>> = [(version.clone(), model.clone())].into();
    assert_eq!(assert_consistent(&s, &known), vec![version.clone()]);
    // Jobs lived in the killed process.
    let jobs = s.get("/api/training/jobs");
    assert_eq!(jobs.status, 200);
    assert_eq!(jobs.json()["jobs"], Value::Array(vec![]));
    s.get(&format!("/api/training/jobs/{id}"))
        .assert_error(404, "not_found");
    // Training works again, and its model joins the registry.
    let id = s.start_job(
        "/api/training/jobs?created_at_micros=1740000060000000",
        &small,
    );
    let done = s.finished_job(&id, Duration::from_secs(60));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["model"]["version"], "20250219_212100", "{done}");
    assert_eq!(assert_listed_models_are_complete(&s).len(), 2);
}
