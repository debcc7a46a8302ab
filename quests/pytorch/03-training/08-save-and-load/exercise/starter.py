import io

import torch
from torch import nn


def make():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    return model, optimizer


def save_checkpoint(model, optimizer, epoch):
    """Write epoch, model state and optimizer state into a BytesIO, rewound and ready to read."""
    buf = io.BytesIO()
    # TODO: save one dict with the keys "epoch", "model" and "optimizer" into buf,
    #       then rewind buf so that it can be read from the start
    return buf


def load_checkpoint(buf, model, optimizer):
    """Fill model and optimizer from the checkpoint in buf and return the saved epoch."""
    # TODO: load the dict from buf (keep the default weights_only=True),
    #       fill model and optimizer from it, and return the saved epoch;
    #       model keys saved through nn.DataParallel start with "module.": strip it
    return None


# Train a little so that the optimizer has state worth saving.
torch.manual_seed(0)
model, optimizer = make()
X = torch.randn(16, 4)
y = torch.randint(0, 2, (16,))
for epoch in range(1, 4):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()
optimizer.param_groups[0]["lr"] = 0.005  # the learning rate was lowered along the way

buf = save_checkpoint(model, optimizer, epoch=3)

torch.manual_seed(1)  # fresh objects start from different weights
new_model, new_optimizer = make()
restored_epoch = load_checkpoint(buf, new_model, new_optimizer)

# Compare everything.
print("epoch:", restored_epoch)
all_match = restored_epoch == 3
new_weights = new_model.state_dict()
for name, tensor in model.state_dict().items():
    same = torch.equal(tensor, new_weights[name])
    all_match = all_match and same
    print(f"model {name}: {same}")

old_state = optimizer.state_dict()["state"]
new_state = new_optimizer.state_dict()["state"]
for index, entries in old_state.items():
    results = []
    for key, tensor in entries.items():
        same = key in new_state.get(index, {}) and torch.equal(tensor, new_state[index][key])
        all_match = all_match and same
        results.append(f"{key} {same}")
    print(f"optimizer state[{index}]: " + ", ".join(results))

lr = new_optimizer.param_groups[0]["lr"]
all_match = all_match and lr == 0.005
print("lr:", lr)
print("all match:", all_match)

# A checkpoint from a run that trained the model wrapped in nn.DataParallel.
buf = save_checkpoint(nn.DataParallel(model), optimizer, epoch=3)
torch.manual_seed(2)
plain_model, plain_optimizer = make()
load_checkpoint(buf, plain_model, plain_optimizer)
weights = zip(model.state_dict().values(), plain_model.state_dict().values())
print("from DataParallel:", all(torch.equal(a, b) for a, b in weights))
