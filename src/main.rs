//! The `openslides-autoupdate` command: runs the service and its tools.

use clap::{Parser, Subcommand};
use openslides_autoupdate::config::Config;
use openslides_autoupdate::{cli, service};
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about = "OpenSlides autoupdate service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Run,
    /// Check that a service on AUTOUPDATE_PORT of this machine is healthy.
    Health,
    /// Write an OpenSlides JSON export into the PostgreSQL datastore.
    Load {
        /// The export file, `{collection: {id: {field: value}}}`.
        file: std::path::PathBuf,
        /// Delete the datastore's content before loading.
        #[arg(long)]
        replace: bool,
    },
    /// Write generated OpenSlides data as JSON to standard output.
    Generate(cli::GenerateArgs),
    /// Run the service on a generated meeting in memory, with a simulated live meeting.
    Demo,
    /// Print a signed access token and refresh cookie for trying the service.
    Token(cli::TokenArgs),
    /// Print the environment variables as Markdown, the content of environment.md.
    Environment,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };

    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Run) {
            Command::Run => run().await,
            Command::Health => cli::health().await,
            Command::Load { file, replace } => cli::load(&file, replace).await,
            Command::Generate(args) => cli::generate(&args),
            Command::Demo => cli::demo().await,
            Command::Token(args) => cli::token(&args),
            Command::Environment => {
                print!("{}", openslides_autoupdate::config::environment_markdown());
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let address = (config.host.as_str(), config.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|err| anyhow::anyhow!("listen on {}:{}: {err}", config.host, config.port))?;
    service::run(config, listener, service::shutdown_signal()).await?;
    Ok(())
}
