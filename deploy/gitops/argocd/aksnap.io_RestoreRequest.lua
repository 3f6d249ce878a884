-- Argo CD health for aksnap.io/RestoreRequest (resource.customizations.health.aksnap.io_RestoreRequest).
-- A one-shot restore: phase Succeeded -> Healthy, phase Failed (Stalled=True) -> Degraded, anything
-- before that (Pending, Running, generation not yet observed) -> Progressing. Same verdicts as kstatus
-- (Flux), which reads the conditions the operator sets with the phase.
local function condition(t)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == t then return c end
    end
  end
  return nil
end
local function said(c, fallback)
  if c.message ~= nil and c.message ~= "" then return (c.reason or fallback) .. ": " .. c.message end
  return c.reason or fallback
end
if obj.metadata.deletionTimestamp ~= nil then
  return { status = "Progressing", message = "Being deleted" }
end
if obj.status == nil or obj.status.observedGeneration == nil then
  return { status = "Progressing", message = "Waiting for the operator to observe the object" }
end
if obj.status.observedGeneration ~= obj.metadata.generation then
  return { status = "Progressing", message = "Generation " .. tostring(obj.metadata.generation) .. " not observed yet (observed " .. tostring(obj.status.observedGeneration) .. ")" }
end
local stalled = condition("Stalled")
local ready = condition("Ready")
if obj.status.phase == "Failed" or (stalled ~= nil and stalled.status == "True") then
  local c = stalled or ready
  if c ~= nil then return { status = "Degraded", message = said(c, "Failed") } end
  return { status = "Degraded", message = "Restore failed" }
end
if obj.status.phase == "Succeeded" then
  if ready ~= nil then return { status = "Healthy", message = said(ready, "Succeeded") } end
  return { status = "Healthy", message = "Restore succeeded" }
end
local reconciling = condition("Reconciling")
local c = reconciling or ready
local phase = obj.status.phase or "Pending"
if c ~= nil then return { status = "Progressing", message = phase .. ": " .. said(c, phase) } end
return { status = "Progressing", message = phase }
