//! The report in a real browser: headless Chromium (Debian's `chromium`,
//! which `.ci/run` installs) loads the file offline with a new empty
//! profile and under a time limit; its screenshot must not be blank (it is
//! decoded and must show several colours, the support green among them),
//! and the DOM it dumps must hold the matrix, the charts and the digest.
//! Where Chromium is absent the test prints one skip line and passes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::TestLedger;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Flags that keep Chromium offline and quiet in a container: no sandbox
/// (root), no GPU, no first-run work, no background, update or sync
/// traffic.
const FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// How long one Chromium run may take before it is killed.
const LIMIT: Duration = Duration::from_secs(90);

/// Runs Chromium on `page` with `args`, in its own process group (killed
/// whole if it outlives [`LIMIT`]) with a new profile under `scratch`;
/// returns its standard output.
fn chromium(scratch: &Path, page: &Path, args: &[String]) -> String {
    let profile = tempfile::tempdir_in(scratch).expect("profile dir");
    let out_path = scratch.join("chromium.out");
    let err_path = scratch.join("chromium.err");
    let mut child = {
        use std::os::unix::process::CommandExt as _;
        Command::new(CHROMIUM)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg(format!("file://{}", page.display()))
            .env("HOME", scratch)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .process_group(0)
            .spawn()
            .expect("start chromium")
    };
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if start.elapsed() > LIMIT {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            panic!("chromium took more than {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    std::fs::read_to_string(&out_path).expect("chromium's output")
}

/// The screenshot's pixels as RGB triples.
fn pixels(png_path: &Path) -> Vec<[u8; 3]> {
    let file = std::io::BufReader::new(std::fs::File::open(png_path).expect("screenshot"));
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "expected colour, got {:?}", info.color_type);
    buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 12)
}

#[test]
fn chromium_renders_the_report_with_its_matrix_charts_and_digest() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "skipped: {CHROMIUM} not found (Debian's chromium package runs the browser test)"
        );
        return;
    }
    let l = TestLedger::new();
    l.import_article();
    let page: PathBuf = l.scratch("report.html");
    l.ok(&[
        "report",
        "--as-of",
        "2020-01-31",
        "-o",
        page.to_str().unwrap(),
    ]);
    let head = l.head();

    let shot = l.scratch("report.png");
    chromium(
        l.root(),
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1100,1600".to_owned(),
        ],
    );
    let px = pixels(&shot);
    assert_eq!(px.len(), 1100 * 1600, "the window's size");
    let white = px.iter().filter(|p| **p == [255, 255, 255]).count();
    assert!(white < px.len() * 98 / 100, "the screenshot is blank");
    let mut colours: Vec<[u8; 3]> = px.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 16, "only {} colours", colours.len());
    let green = [0x00, 0x9e, 0x73];
    let greens = px.iter().filter(|p| near(**p, green)).count();
    assert!(greens > 1000, "the support green shows in {greens} pixels");

    let dom = chromium(l.root(), &page, &["--dump-dom".to_owned()]);
    assert!(dom.contains("id=\"matrix\""), "no matrix in the DOM");
    let rows = dom.matches("data-issue=").count();
    assert_eq!(rows, 15, "one matrix row per issue");
    assert_eq!(dom.matches("<svg").count(), 15, "one chart per issue");
    assert!(dom.contains("class=\"lane\" data-actor=\"JPN\""));
    assert!(
        dom.contains(&format!("stancelog verify --digest {head}")),
        "no digest in the DOM"
    );
}
