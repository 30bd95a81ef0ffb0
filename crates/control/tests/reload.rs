//! SIGHUP's path: a config file through the same validation and swap as a push.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use control::{Controller, Options, Plane, PushError};
use dataplane::{Published, Report, SampleRecord, WorkerInfo};

struct Counting {
    generation: AtomicU64,
    sources: Arc<Mutex<Vec<String>>>,
    tables: Mutex<policy::Tables>,
}

impl Plane for Counting {
    fn publish(&self, tables: policy::Tables, source: String) -> Published {
        let g = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.sources.lock().unwrap().push(source);
        let hash = tables.hash().to_string();
        *self.tables.lock().unwrap() = tables;
        Published {
            generation: g,
            hash,
            grace_us: 1,
        }
    }
    fn report(&self) -> Report {
        unreachable!("not used by reload")
    }
    fn workers(&self) -> Vec<WorkerInfo> {
        Vec::new()
    }
    fn active(&self) -> control::ActiveConfig {
        control::ActiveConfig::new(
            self.generation.load(Ordering::Relaxed),
            &self.tables.lock().unwrap(),
            "",
            SystemTime::now(),
        )
    }
    fn drain_samples(&mut self, _: &mut Vec<SampleRecord>) {}
}

#[test]
fn a_reload_publishes_a_good_file_and_keeps_the_tables_on_a_bad_one() {
    let dir = std::env::temp_dir().join(format!("op25b-control-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("op25b.yaml");
    let sources = Arc::new(Mutex::new(Vec::new()));
    let plane = Counting {
        generation: AtomicU64::new(1),
        sources: sources.clone(),
        tables: Mutex::new(
            policy::load_str("x", common::CONFIG.as_bytes())
                .unwrap()
                .tables,
        ),
    };
    let (mut ctl, _handle) = Controller::new(plane, &Options::default());

    let good = common::config_with("mobile", "enforce");
    std::fs::write(&file, &good).unwrap();
    let p = ctl.reload(&file).unwrap();
    assert_eq!(p.generation, 2);
    assert_eq!(p.hash, common::hash_of(&good));
    assert_eq!(*sources.lock().unwrap(), [good]);

    std::fs::write(&file, "version: 2\npools: []\n").unwrap();
    match ctl.reload(&file) {
        Err(PushError::Rejected(e)) => {
            assert!(e.len() >= 2, "{e}");
            assert!(e.to_string().contains("op25b.yaml:1:"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&file).unwrap();
    match ctl.reload(&file) {
        Err(PushError::Rejected(e)) => assert!(e.to_string().contains("cannot read"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sources.lock().unwrap().len(), 1, "nothing published");
    assert_eq!(ctl.plane().active().generation, 2);
    let c = ctl.shared().control_stats();
    assert_eq!((c.reloads_accepted, c.reloads_rejected), (1, 2));
    let _ = std::fs::remove_dir_all(&dir);
}
