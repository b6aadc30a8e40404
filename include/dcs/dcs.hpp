// Umbrella header: everything an embedding daemon needs.
#pragma once

#include "dcs/abstract_dcs.hpp"
#include "dcs/clock.hpp"
#include "dcs/cluster.hpp"
#include "dcs/errors.hpp"
#include "dcs/etcd3/client.hpp"
#include "dcs/etcd3/config.hpp"
#include "dcs/etcd3/errors.hpp"
#include "dcs/observer.hpp"
#include "dcs/version.hpp"
