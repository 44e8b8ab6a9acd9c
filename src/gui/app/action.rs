//! What a panel asks the app to do, applied after the panels are painted.

use crate::gui::state::Tab;
use crate::jose::keys::KeyType;
use crate::oauth::render::Redaction;

/// What a panel asks the app to do (applied after the panels are painted).
#[derive(Clone, Debug)]
pub enum Action {
    /// Show another tab.
    SetTab(Tab),
    /// Select a profile by index.
    SelectProfile(usize),
    /// Create an empty profile.
    NewProfile,
    /// Create a profile from an ecosystem preset (its id).
    NewFromPreset(String),
    /// Replace the selected profile's consent JSON (the consent editor).
    SetConsent(String),
    /// Copy the selected profile under a new name (same key).
    DuplicateProfile,
    /// Open the rename box.
    StartRename,
    /// Apply the rename box.
    ConfirmRename,
    /// Close the rename box.
    CancelRename,
    /// Delete the selected profile (after confirmation).
    DeleteProfile,
    /// Import a TOML profile.
    ImportProfile,
    /// Replace the existing profile with the imported one of the same name.
    ReplaceWithImport,
    /// Keep the existing profile; drop the imported one.
    KeepExisting,
    /// Export the selected profile as TOML.
    ExportProfile,
    /// Save the selected profile.
    SaveProfile,
    /// Drop unsaved edits.
    RevertProfile,
    /// Show a history entry in the Response panel.
    ShowHistory(usize),
    /// Show a saved (on-disk) history entry in the Response panel.
    ShowSaved(usize),
    /// Compare the shown saved entry with the newest success of its kind before it.
    CompareSaved(usize),
    /// Compare saved entry `.0` with saved entry `.1` (the earlier one first).
    CompareSavedWith(usize, usize),
    /// Copy a saved entry's support bundle (Markdown).
    CopyBundle(usize),
    /// Save a saved entry's support bundle (Markdown and JSON) to a file.
    SaveBundle(usize),
    /// Keep secrets in memory for this session only.
    UseSessionStore,
    /// OIDC discovery.
    Discover,
    /// Keep the typed client secret in the secret store.
    StoreClientSecret,
    /// Generate a signing key.
    GenerateKey(KeyType),
    /// Import a signing key file.
    ImportKey,
    /// Save the public JWKS to a file.
    SaveJwks,
    /// Pick the mTLS certificate.
    PickMtlsCert,
    /// Import the mTLS key.
    ImportMtlsKey,
    /// Forget the mTLS settings.
    ClearMtls,
    /// Import the client's decryption key (encrypted API answers).
    ImportDecryptionKey,
    /// Forget the decryption key reference.
    ClearDecryptionKey,
    /// Start the embedded sandbox for the local profile.
    StartSandbox,
    /// Set the Local sandbox profile up for PayNet-style signed data calls.
    SetUpDataCalls,
    /// Copy text to the clipboard.
    Copy {
        /// What it is (for the status line).
        what: String,
        /// The text.
        text: String,
    },
    /// Copy the curl command of the preview.
    CopyCurl(Redaction),
    /// Paste the clipboard into the code box.
    PasteCode,
    /// Read the code box (code, state, iss).
    ApplyPaste,
    /// New PKCE verifier.
    GeneratePkce,
    /// New interaction id.
    RegenerateInteractionId,
    /// Rebuild the request (fresh assertion).
    Rebuild,
    /// Send the previewed request.
    Send,
    /// Call the API URL with the shown access token.
    CallApi,
    /// Cancel the request in flight.
    Cancel,
    /// List the flow files again.
    RefreshFlows,
    /// Save the last successful sequence of the history as a flow file.
    SaveAsFlow,
    /// Run the flow file at this index with the selected profile.
    RunFlow(usize),
    /// Stop the flow run in flight.
    CancelFlow,
    /// Show a flow step's last exchange in the Response panel.
    OpenFlowStep(usize),
    /// PAR + authorize (in-app approval for the local sandbox).
    Authorize,
    /// Inspect the pasted token.
    DecodeJwt,
    /// Paste the clipboard into the JWT panel.
    PasteJwt,
    /// Fetch the profile's JWKS for the JWT panel.
    FetchJwks,
    /// Pick a key file for the JWT panel.
    PickJwtKey,
}
