import { Route, Routes } from "react-router";
import { ClientLoginPage } from "../cloud/ClientLoginPage";
import { CloudGate } from "../cloud/CloudGate";
import { PAGES } from "./pages";
import { NotFound, Shell } from "./Shell";

/** The route table, built from PAGES (register new pages there, not here). */
export function App() {
  return (
    <CloudGate>
      <Routes>
        <Route path="auth/client" element={<ClientLoginPage />} />
        <Route element={<Shell />}>
          {PAGES.map((p) => (p.path === "" ? <Route key="index" index element={p.element} /> : <Route key={p.path} path={p.path} element={p.element} />))}
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </CloudGate>
  );
}
