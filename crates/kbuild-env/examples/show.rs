//! Prints what kbuild-env would give a build on this machine:
//! `cargo run -p kbuild-env --example show -- [SRC_DIR OBJ_DIR]`.

use kbuild_env::{EnvSpec, KbuildEnv, ToolchainQuery, collect};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (src, obj) = match &args[..] {
        [s, o] => (s.clone(), o.clone()),
        _ => ("/build/src/linux-6.12".into(), "/build/obj".into()),
    };
    let spec = EnvSpec::new(
        1_794_660_961,
        src.into(),
        obj.into(),
        "/build/home".into(),
        2,
    );
    let env = KbuildEnv::new(&spec)?;
    println!("# environment");
    print!("{}", env.describe());
    println!("# make arguments");
    for a in env.make_args() {
        println!("{a}");
    }
    let fp = collect(&ToolchainQuery::default())?;
    println!("# toolchain fingerprint (sha256 {})", fp.sha256());
    print!("{}", fp.to_text());
    Ok(())
}
