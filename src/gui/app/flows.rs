//! The Flows view's actions and events: list the profiles folder's flow files, run one
//! with the selected profile (cancellable; each step shown as it ends), open a step's
//! exchange in the Response panel.

use super::{Action, App};
use crate::gui::state::{Tab, Work};
use crate::gui::worker::{Command, Event};

impl App {
    pub(super) fn apply_flows(&mut self, action: Action) {
        match action {
            Action::RefreshFlows => self.worker.send(Command::ListFlows),
            Action::SaveAsFlow => self.save_as_flow(),
            Action::RunFlow(i) => self.run_flow(i),
            Action::CancelFlow => {
                if let Work::Running { id, .. } = self.state.flows.work {
                    self.worker.send(Command::Cancel { id });
                    self.state.flows.work = Work::Idle;
                    self.state.flows.result = Some(Err("cancelled".into()));
                }
            }
            Action::OpenFlowStep(i) => {
                let exchange = self
                    .state
                    .flows
                    .steps
                    .get(i)
                    .and_then(|s| s.exchanges.last().cloned());
                if let Some(exchange) = exchange {
                    self.state.show_new_exchange(exchange);
                    self.state.persisted.tab = Tab::Response;
                }
            }
            _ => {}
        }
    }

    /// The last successful sequence of this profile's exchanges, as a flow file.
    fn save_as_flow(&mut self) {
        let Some(profile) = self.state.profile().cloned() else {
            return;
        };
        let mut exchanges: Vec<&crate::oauth::exchange::Exchange> = self
            .state
            .history
            .iter()
            .filter(|e| e.profile == profile.name)
            .map(|e| &e.exchange)
            .collect();
        // The last API call (the Response panel keeps it beside the history).
        if let Some(Ok(call)) = &self.state.api.result {
            exchanges.push(call);
        }
        let name = format!("{}: saved run", profile.name);
        match crate::flow::from_exchanges(&name, &profile.issuer, &exchanges) {
            Some(text) => self.worker.send(Command::SaveFlow {
                stem: format!("{}-saved", profile.name),
                text,
            }),
            None => {
                self.state.status =
                    "Nothing to save yet: authorize, send and call first, then Save as flow".into();
            }
        }
    }

    fn run_flow(&mut self, i: usize) {
        if self.state.flows.work.is_running() {
            return;
        }
        let (Some(file), Some(profile)) = (
            self.state.flows.files.get(i).cloned(),
            self.state.profile().cloned(),
        ) else {
            return;
        };
        let id = self.new_id();
        let flows = &mut self.state.flows;
        flows.work = Work::Running {
            id,
            what: format!("Running {}…", file.name),
        };
        flows.running = Some(file.name.clone());
        flows.steps.clear();
        flows.result = None;
        self.worker.send(Command::RunFlow {
            id,
            profile,
            path: file.path,
        });
    }

    pub(super) fn on_flows_event(&mut self, event: Event) {
        let flows = &mut self.state.flows;
        let current =
            |work: &Work, id: u64| matches!(work, Work::Running { id: i, .. } if *i == id);
        match event {
            Event::Flows(files) => flows.files = files,
            Event::FlowSaved(result) => {
                self.state.status = match result {
                    Ok(path) => format!("Saved the run as the flow {path}"),
                    Err(e) => format!("The flow was not saved: {e}"),
                };
            }
            Event::FlowStep { id, step } if current(&flows.work, id) => flows.steps.push(*step),
            Event::FlowDone { id, result } if current(&flows.work, id) => {
                flows.work = Work::Idle;
                self.state.status = match &result {
                    Ok(s) | Err(s) => s.clone(),
                };
                flows.result = Some(result);
            }
            _ => {}
        }
    }
}
