//! Host collector: CPU, memory and disks of the machine dbdoctor runs on (sysinfo). It is the
//! database host only when the connection is local; the snapshot records which.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    pub mount_point: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostSnapshot {
    pub hostname: Option<String>,
    pub cpu_count: usize,
    /// Whole-machine CPU use over a short sample, 0-100.
    pub cpu_usage_pct: f64,
    pub load_average_1m: f64,
    pub memory_total_bytes: u64,
    pub memory_used_bytes: u64,
    pub memory_available_bytes: u64,
    pub disks: Vec<DiskInfo>,
}

/// Sample the host; blocks for sysinfo's minimum CPU sampling interval (about 200 ms).
pub fn collect() -> HostSnapshot {
    use sysinfo::{Disks, System};
    let mut sys = System::new();
    sys.refresh_cpu_usage();
    std::thread::sleep(
        sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.max(std::time::Duration::from_millis(200)),
    );
    sys.refresh_cpu_usage();
    sys.refresh_memory();
    let mut disks: Vec<DiskInfo> = Disks::new_with_refreshed_list()
        .list()
        .iter()
        .filter(|d| d.total_space() > 0)
        .map(|d| DiskInfo {
            mount_point: d.mount_point().display().to_string(),
            total_bytes: d.total_space(),
            available_bytes: d.available_space(),
        })
        .collect();
    disks.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    disks.dedup_by(|a, b| a.mount_point == b.mount_point);
    HostSnapshot {
        hostname: System::host_name(),
        cpu_count: sys.cpus().len(),
        cpu_usage_pct: f64::from(sys.global_cpu_usage()),
        load_average_1m: System::load_average().one,
        memory_total_bytes: sys.total_memory(),
        memory_used_bytes: sys.used_memory(),
        memory_available_bytes: sys.available_memory(),
        disks,
    }
}
